// Rewrite the README's error-code table from CODES (run after `npm run build`):
//   node scripts/readme-codes.mjs
import { readFileSync, writeFileSync } from 'node:fs'
import { CODES } from '../dist/lib/errors.js'

const rows = Object.entries(CODES)
  .map(([k, v]) => `| \`${k}\` | ${v.exit} | ${v.summary.replaceAll('|', '\\|')} |`)
  .join('\n')
const readme = readFileSync('README.md', 'utf8')
writeFileSync(
  'README.md',
  readme.replace(
    /(<!-- codes:start -->\n\| code \| exit \| meaning \|\n\|---\|---\|---\|\n)[\s\S]*?(<!-- codes:end -->)/,
    (_m, a, b) => a + rows + '\n' + b,
  ),
)
