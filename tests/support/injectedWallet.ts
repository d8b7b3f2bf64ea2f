/**
 * A test wallet for headless Chromium: an EIP-1193 `window.ethereum` installed with `page.addInitScript({ content })`.
 * Reads go straight from the page to anvil's JSON-RPC (anvil allows CORS); anything that needs the key
 * (eth_sendTransaction, eth_signTypedData_v4, personal_sign) crosses to Node through `page.exposeFunction`,
 * where a viem local account signs and sends. The private key never enters the page.
 */
import type { Page } from 'playwright-core'
import { type Chain, createWalletClient, type Hex, http, type LocalAccount } from 'viem'

export type InjectedWalletScriptParameters = {
  address: string
  rpcUrl: string
  /** The chain the wallet reports at first; differs from `chainIds[0]` to exercise wrong-chain handling. */
  initialChainId: number
  /** Chains wallet_switchEthereumChain accepts (others answer 4902, "unrecognised chain"). */
  chainIds: readonly number[]
  /** Name of the function exposed by installInjectedWallet. */
  bridge?: string
}

/** The init-script source: plain ES2020, no imports, parameters inlined as JSON. */
export function injectedWalletScript({
  address,
  rpcUrl,
  initialChainId,
  chainIds,
  bridge = '__cumulusWalletSign',
}: InjectedWalletScriptParameters): string {
  const cfg = JSON.stringify({ address, rpcUrl, initialChainId, chainIds, bridge })
  return `(() => {
  const cfg = ${cfg};
  let chainId = cfg.initialChainId;
  let nextId = 1;
  const listeners = {};
  const emit = (event, value) => (listeners[event] || []).slice().forEach((fn) => { try { fn(value) } catch {} });
  const rpcError = (code, message) => Object.assign(new Error(message), { code });
  const hex = (n) => '0x' + n.toString(16);
  const signing = new Set(['eth_sendTransaction', 'eth_signTypedData_v4', 'personal_sign']);
  async function request({ method, params = [] }) {
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [cfg.address];
      case 'eth_chainId':
        return hex(chainId);
      case 'net_version':
        return String(chainId);
      case 'wallet_requestPermissions':
      case 'wallet_getPermissions':
        return [{ parentCapability: 'eth_accounts' }];
      case 'wallet_revokePermissions':
        return null;
      case 'wallet_switchEthereumChain': {
        const wanted = Number(params[0] && params[0].chainId);
        if (!cfg.chainIds.includes(wanted)) throw rpcError(4902, 'Unrecognized chain ' + wanted);
        if (wanted !== chainId) { chainId = wanted; emit('chainChanged', hex(chainId)); }
        return null;
      }
    }
    if (signing.has(method)) {
      if (chainId !== cfg.chainIds[0]) throw rpcError(4901, 'Wallet is on chain ' + chainId);
      const answer = await window[cfg.bridge](method, JSON.stringify(params));
      const parsed = JSON.parse(answer);
      if (parsed.error) throw rpcError(parsed.error.code, parsed.error.message);
      return parsed.result;
    }
    const res = await fetch(cfg.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
    const body = await res.json();
    if (body.error) throw Object.assign(rpcError(body.error.code, body.error.message), { data: body.error.data });
    return body.result;
  }
  const provider = {
    isMetaMask: false,
    isCumulusTestWallet: true,
    request,
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); return provider; },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); return provider; },
  };
  window.ethereum = provider;
  const info = { uuid: '00000000-0000-4000-8000-00000000c0de', name: 'Cumulus Test Wallet', icon: 'data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22/>', rdns: 'dev.cumulus.testwallet' };
  const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
})();`
}

export type InstallInjectedWalletParameters = {
  account: LocalAccount
  chain: Chain
  rpcUrl: string
  /** Reported chain at page load; `chain.id` unless a test wants the wrong-chain path. */
  initialChainId?: number
}

/** Exposes the Node-side signer and installs the provider; call before `page.goto`. */
export async function installInjectedWallet(
  page: Page,
  { account, chain, rpcUrl, initialChainId = chain.id }: InstallInjectedWalletParameters,
): Promise<void> {
  const bridge = '__cumulusWalletSign'
  const walletClient = createWalletClient({ account, chain, transport: http(rpcUrl) })
  await page.exposeFunction(bridge, async (method: string, paramsJson: string) => {
    try {
      const params = JSON.parse(paramsJson) as unknown[]
      return JSON.stringify({ result: await sign(method, params) })
    } catch (error) {
      const e = error as { code?: number; shortMessage?: string; message?: string }
      return JSON.stringify({
        error: { code: e.code ?? -32603, message: e.shortMessage ?? e.message ?? String(error) },
      })
    }
  })
  async function sign(method: string, params: unknown[]): Promise<Hex> {
    if (method === 'eth_signTypedData_v4') {
      const typed = JSON.parse(params[1] as string)
      const { EIP712Domain: _, ...types } = typed.types
      return account.signTypedData({ ...typed, types })
    }
    if (method === 'personal_sign') return account.signMessage({ message: { raw: params[0] as Hex } })
    const tx = params[0] as Record<string, Hex | undefined>
    const big = (v: Hex | undefined) => (v === undefined ? undefined : BigInt(v))
    return walletClient.sendTransaction({
      to: tx.to as Hex,
      data: tx.data,
      value: big(tx.value),
      gas: big(tx.gas),
    })
  }
  await page.addInitScript({
    content: injectedWalletScript({
      address: account.address,
      rpcUrl,
      initialChainId,
      chainIds: [chain.id],
      bridge,
    }),
  })
}
