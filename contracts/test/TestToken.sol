// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test-only ERC-20: the deployer names the holder of the whole supply.
contract TestToken is ERC20 {
    constructor(address holder, uint256 supply) ERC20("Cumulus Test Token", "CTT") {
        _mint(holder, supply);
    }
}
