// Locating files shipped with the package (bundled samples), from source or from dist/.

import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package's root directory (the nearest parent holding package.json). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url))
    dir = up
  }
  return dir
}

/** Path of a bundled sample under fixtures/samples/. */
export function samplePath(name: string): string {
  return join(packageRoot(), 'fixtures', 'samples', name)
}
