// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title RewardDistributor
/// @notice Pays Cumulus volunteers for training work, one Merkle root per (run, epoch).
/// A run's organizer funds its pool (native coin when `token == address(0)`, else one ERC-20);
/// the run's coordinator posts, once per epoch, the root of a StandardMerkleTree whose leaves are
/// `(address account, bytes32 runId, uint64 epoch, uint256 amount)` (see core/receipts/epochLeaf.ts, the TS twin
/// of `leafOf`) together with the epoch's total. Accounting keeps `claimed <= committed <= funded` per run:
/// a root is refused when its total exceeds the uncommitted pool, and a claim is refused when it would take an
/// epoch past the total its root declared, so a wrong tree can never spend another epoch's money.
/// Runs belong to their organizer: a run is stored under `runKeyOf(organizer, runId)`, so anyone can open a run with
/// any id without ever touching another organizer's run of the same id (an id seen in a relay's status cannot be
/// squatted). Every function below that takes a `runId` takes this key (core/receipts/runKey.ts is its TS twin).
contract RewardDistributor is Ownable, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    struct Run {
        address organizer;
        address coordinator;
        address token; // address(0): native coin
        uint256 funded; // total ever paid in, minus withdrawals of uncommitted funds
        uint256 committed; // sum of the totals of posted epochs
        uint256 claimed; // sum of all claims paid
    }

    struct Epoch {
        bytes32 root;
        uint256 total;
        uint256 claimed;
        // Root of the epoch's training log (core/audit/logRoot.ts): what `npm run audit` checks the relay against.
        bytes32 logRoot;
    }

    error RunAlreadyExists(bytes32 runId);
    error RunNotFound(bytes32 runId);
    error ZeroAddress();
    error ZeroAmount();
    error NotOrganizer(bytes32 runId, address caller);
    error NotCoordinator(bytes32 runId, address caller);
    error WrongAsset(bytes32 runId, address token);
    error EmptyRoot();
    error EpochAlreadyPosted(bytes32 runId, uint64 epoch);
    error LogRootAlreadyPosted(bytes32 runId, uint64 epoch);
    error EpochNotPosted(bytes32 runId, uint64 epoch);
    error EpochExceedsPool(bytes32 runId, uint256 total, uint256 uncommitted);
    error AlreadyClaimed(bytes32 runId, uint64 epoch, address account);
    error InvalidProof();
    error EpochTotalExceeded(bytes32 runId, uint64 epoch);
    error InsufficientUncommitted(bytes32 runId, uint256 requested, uint256 uncommitted);

    event RunCreated(
        bytes32 indexed runId, address indexed organizer, bytes32 organizerRunId, address coordinator, address token
    );
    event CoordinatorChanged(bytes32 indexed runId, address coordinator);
    event PoolFunded(bytes32 indexed runId, address indexed funder, uint256 amount);
    event PoolWithdrawn(bytes32 indexed runId, address indexed to, uint256 amount);
    event EpochRootPosted(bytes32 indexed runId, uint64 indexed epoch, bytes32 root, uint256 total);
    event LogRootPosted(bytes32 indexed runId, uint64 indexed epoch, bytes32 logRoot);
    event Claimed(bytes32 indexed runId, uint64 indexed epoch, address indexed account, uint256 amount);

    mapping(bytes32 runId => Run) private _runs;
    mapping(bytes32 runId => mapping(uint64 epoch => Epoch)) private _epochs;
    // One leaf per account per epoch (the tree builder aggregates), so the claimed flag is keyed by account.
    mapping(bytes32 runId => mapping(uint64 epoch => mapping(address account => bool))) private _claimed;

    constructor(address initialOwner) Ownable(initialOwner) {}

    // ---------------------------------------------------------------- organizer

    /// @notice Opens the caller's run `organizerRunId` under the key `runKeyOf(msg.sender, organizerRunId)`, which it
    /// returns; the caller becomes its organizer. `token == address(0)` means native coin.
    function createRun(bytes32 organizerRunId, address coordinator, address token)
        external
        whenNotPaused
        returns (bytes32 runId)
    {
        if (coordinator == address(0)) revert ZeroAddress();
        runId = runKeyOf(msg.sender, organizerRunId);
        if (_runs[runId].organizer != address(0)) revert RunAlreadyExists(runId);
        _runs[runId] = Run({
            organizer: msg.sender, coordinator: coordinator, token: token, funded: 0, committed: 0, claimed: 0
        });
        emit RunCreated(runId, msg.sender, organizerRunId, coordinator, token);
    }

    function setCoordinator(bytes32 runId, address coordinator) external {
        Run storage run = _existing(runId);
        if (msg.sender != run.organizer) revert NotOrganizer(runId, msg.sender);
        if (coordinator == address(0)) revert ZeroAddress();
        run.coordinator = coordinator;
        emit CoordinatorChanged(runId, coordinator);
    }

    /// @notice Adds native coin to a native-coin run's pool. Anyone may fund.
    function fundNative(bytes32 runId) external payable whenNotPaused {
        Run storage run = _existing(runId);
        if (run.token != address(0)) revert WrongAsset(runId, run.token);
        if (msg.value == 0) revert ZeroAmount();
        run.funded += msg.value;
        emit PoolFunded(runId, msg.sender, msg.value);
    }

    /// @notice Pulls `amount` of the run's ERC-20 (approve first). Credits what actually arrived, so a
    /// fee-on-transfer token cannot make the pool look larger than the balance behind it.
    function fundToken(bytes32 runId, uint256 amount) external nonReentrant whenNotPaused {
        Run storage run = _existing(runId);
        if (run.token == address(0)) revert WrongAsset(runId, address(0));
        if (amount == 0) revert ZeroAmount();
        IERC20 token = IERC20(run.token);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received == 0) revert ZeroAmount();
        run.funded += received;
        emit PoolFunded(runId, msg.sender, received);
    }

    /// @notice The organizer takes back money no epoch has been promised yet.
    function withdrawUncommitted(bytes32 runId, uint256 amount, address payable to) external nonReentrant {
        Run storage run = _existing(runId);
        if (msg.sender != run.organizer) revert NotOrganizer(runId, msg.sender);
        if (to == address(0)) revert ZeroAddress();
        uint256 free = run.funded - run.committed;
        if (amount == 0) revert ZeroAmount();
        if (amount > free) revert InsufficientUncommitted(runId, amount, free);
        run.funded -= amount;
        _pay(run.token, to, amount);
        emit PoolWithdrawn(runId, to, amount);
    }

    // ---------------------------------------------------------------- coordinator

    /// @notice Commits `total` of the pool to an epoch whose claims are the leaves under `root`. Once per epoch.
    function postEpochRoot(bytes32 runId, uint64 epoch, bytes32 root, uint256 total) external whenNotPaused {
        Run storage run = _existing(runId);
        if (msg.sender != run.coordinator) revert NotCoordinator(runId, msg.sender);
        if (root == bytes32(0)) revert EmptyRoot();
        if (total == 0) revert ZeroAmount();
        Epoch storage e = _epochs[runId][epoch];
        if (e.root != bytes32(0)) revert EpochAlreadyPosted(runId, epoch);
        uint256 free = run.funded - run.committed;
        if (total > free) revert EpochExceedsPool(runId, total, free);
        run.committed += total;
        e.root = root;
        e.total = total;
        emit EpochRootPosted(runId, epoch, root, total);
    }

    /// @notice Records the root of the epoch's training log next to its reward root. Once per epoch, and also for
    /// epochs that pay nothing: the log says how the model was made whether or not anyone was paid.
    function postLogRoot(bytes32 runId, uint64 epoch, bytes32 logRoot) external whenNotPaused {
        Run storage run = _existing(runId);
        if (msg.sender != run.coordinator) revert NotCoordinator(runId, msg.sender);
        if (logRoot == bytes32(0)) revert EmptyRoot();
        Epoch storage e = _epochs[runId][epoch];
        if (e.logRoot != bytes32(0)) revert LogRootAlreadyPosted(runId, epoch);
        e.logRoot = logRoot;
        emit LogRootPosted(runId, epoch, logRoot);
    }

    // ---------------------------------------------------------------- volunteers

    /// @notice Pays `amount` to `account` for `epoch` of `runId`. Anyone may submit; the money only goes to `account`.
    function claim(bytes32 runId, uint64 epoch, address account, uint256 amount, bytes32[] calldata proof)
        external
        nonReentrant
        whenNotPaused
    {
        // checks
        Run storage run = _existing(runId);
        Epoch storage e = _epochs[runId][epoch];
        if (e.root == bytes32(0)) revert EpochNotPosted(runId, epoch);
        if (_claimed[runId][epoch][account]) revert AlreadyClaimed(runId, epoch, account);
        if (amount == 0) revert ZeroAmount();
        // verify: the leaf is hashed here from typed fields, never taken from the caller, so an inner node
        // (64 bytes of hashes) can never pose as a leaf.
        if (!MerkleProof.verifyCalldata(proof, e.root, leafOf(account, runId, epoch, amount))) revert InvalidProof();
        if (e.claimed + amount > e.total) revert EpochTotalExceeded(runId, epoch);
        // effects
        _claimed[runId][epoch][account] = true;
        e.claimed += amount;
        run.claimed += amount;
        // transfer
        _pay(run.token, account, amount);
        // emit
        emit Claimed(runId, epoch, account, amount);
    }

    // ---------------------------------------------------------------- owner

    function pause() external onlyOwner {
        _pause();
    }

    function unpause() external onlyOwner {
        _unpause();
    }

    // ---------------------------------------------------------------- views

    /// @notice The StandardMerkleTree leaf: double keccak of the ABI-encoded fields (one place of truth with
    /// core/receipts/epochLeaf.ts, cross-tested).
    function leafOf(address account, bytes32 runId, uint64 epoch, uint256 amount) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, runId, epoch, amount))));
    }

    /// @notice The key of `organizer`'s run `organizerRunId`: the only key its funds, roots and claims live under.
    function runKeyOf(address organizer, bytes32 organizerRunId) public pure returns (bytes32) {
        return keccak256(abi.encode(organizer, organizerRunId));
    }

    function runOf(bytes32 runId)
        external
        view
        returns (address organizer, address coordinator, address token, uint256 funded, uint256 committed, uint256 claimed)
    {
        Run storage run = _runs[runId];
        return (run.organizer, run.coordinator, run.token, run.funded, run.committed, run.claimed);
    }

    function epochOf(bytes32 runId, uint64 epoch) external view returns (bytes32 root, uint256 total, uint256 claimed) {
        Epoch storage e = _epochs[runId][epoch];
        return (e.root, e.total, e.claimed);
    }

    function logRootOf(bytes32 runId, uint64 epoch) external view returns (bytes32) {
        return _epochs[runId][epoch].logRoot;
    }

    function isClaimed(bytes32 runId, uint64 epoch, address account) external view returns (bool) {
        return _claimed[runId][epoch][account];
    }

    function uncommitted(bytes32 runId) external view returns (uint256) {
        Run storage run = _runs[runId];
        return run.funded - run.committed;
    }

    // ---------------------------------------------------------------- internal

    function _existing(bytes32 runId) private view returns (Run storage run) {
        run = _runs[runId];
        if (run.organizer == address(0)) revert RunNotFound(runId);
    }

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) Address.sendValue(payable(to), amount);
        else IERC20(token).safeTransfer(to, amount);
    }
}
