/**
 * Vite plugin: keeps tfjs-backend-wasm's threaded build working when bundled and minified.
 *
 * tfjs hands each emscripten pthread worker the glue as a Blob built from
 * `wasmFactoryThreadedSimd.toString()`: the text of the factory function, run on
 * its own in a classic worker. That text is only self-contained in the original
 * file. Minified, the factory refers to its enclosing closure under mangled names
 * (`typeof _scriptDir !== "undefined"` becomes `e !== void 0`, with `e` declared
 * outside the function), so every pthread dies with "e is not defined" and the
 * backend never starts. This plugin replaces that expression with the glue's
 * original source, which declares `WasmBackendModuleThreadedSimd` exactly as the
 * pthread script expects; the minifier never sees it (it is a string literal).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Plugin } from 'vite'

/** The expression tfjs 4.22 builds the pthreads' main script from (dist/backend_wasm.js). */
const FACTORY_TEXT = /`var WasmBackendModuleThreadedSimd = ` \+\s*wasmFactoryThreadedSimd\.toString\(\)/
const BACKEND_MODULE = /@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/

export function tfjsThreadedGlue(): Plugin {
  const require = createRequire(import.meta.url)
  const packageDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))
  const glue = readFileSync(join(packageDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'), 'utf8')
  return {
    name: 'cumulus:tfjs-threaded-glue',
    enforce: 'pre',
    transform(code, id) {
      if (!BACKEND_MODULE.test(id.split('?')[0] ?? id)) return null
      if (!FACTORY_TEXT.test(code))
        // A tfjs upgrade moved the expression: fail the build rather than ship threads that cannot start.
        this.error(
          'tfjs-backend-wasm no longer builds its pthread script from wasmFactoryThreadedSimd.toString(): ' +
            'update scripts/vite/tfjsThreadedGlue.ts for this version.',
        )
      return { code: code.replace(FACTORY_TEXT, () => JSON.stringify(glue)), map: null }
    },
  }
}
