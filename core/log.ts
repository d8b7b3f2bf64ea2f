import createDebug from 'debug'

/**
 * The one logger. Namespaces are debug-style: `cumulus:relay:coordinator`.
 * Enable with DEBUG=cumulus:* (Node) or localStorage.debug = 'cumulus:*' (browser).
 */
export type Logger = ReturnType<typeof createDebug> & { error: ReturnType<typeof createDebug> }

export function logger(namespace: string): Logger {
  const log = createDebug(`cumulus:${namespace}`) as Logger
  log.error = createDebug(`cumulus:${namespace}:error`)
  return log
}
