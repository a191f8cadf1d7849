// ajv's answers on SchemaStore's test documents, set up as SchemaStore's own `cli.js` sets it
// up (same draft classes, ajv-formats, ajv-formats-draft2019 from draft-07 on, the
// `uniqueItemProperties` keyword, each schema's `unknownFormat`, `unknownKeywords` and
// `externalSchema` options) but with `strict: false`, so every schema compiles.
//
// usage: node ajv.mjs <node_modules-parent> <schemastore-checkout> <cases.json>
//   cases.json: [{"schema": "name", "files": [{"path": "src/test/name/a.json", "valid": true}, …]}, …]
// prints one JSON line per schema: {"schema", "ms", "error"?, "files": [{"path", "valid"}]}
// where `valid` is ajv's verdict (null when the file could not be read or parsed).
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

const [tools, root, casesFile] = process.argv.slice(2)
if (!tools || !root || !casesFile) {
  console.error('usage: node ajv.mjs <node_modules-parent> <schemastore-checkout> <cases.json>')
  process.exit(2)
}
const require = createRequire(path.join(path.resolve(tools), 'package.json'))
const AjvDraft04 = require('ajv-draft-04').default
const { Ajv: AjvDraft06And07 } = require('ajv')
const Ajv2019 = require('ajv/dist/2019.js').default
const Ajv2020 = require('ajv/dist/2020.js').default
const addFormats = require('ajv-formats').default
const ajvKeywords = require('ajv-keywords')
const { ajvFormatsDraft2019 } = require('@hyperupcall/ajv-formats-draft2019')
const YAML = require('yaml')
const TOML = require('smol-toml')

const schemaDir = path.join(root, 'src/schemas/json')
const draft06 = JSON.parse(
  fs.readFileSync(require.resolve('ajv/dist/refs/json-schema-draft-06.json'), 'utf8'),
)

// schema-validation.jsonc is JSONC: strip comments outside strings and trailing commas.
function parseJsonc(text) {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2) + 1
    } else out += c
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'))
}
const validation = parseJsonc(
  fs.readFileSync(path.join(root, 'src/schema-validation.jsonc'), 'utf8'),
)

const draftOf = (schema) => {
  const uri = String(schema.$schema ?? '')
  if (uri.includes('draft-04')) return 'draft-04'
  if (uri.includes('draft-06')) return 'draft-06'
  if (uri.includes('draft-07')) return 'draft-07'
  if (uri.includes('2019-09')) return '2019-09'
  return '2020-12'
}

function ajvFor(schemaName, draft) {
  const options = validation.options?.[`${schemaName}.json`] ?? {}
  const ajvOptions = { strict: false }
  let ajv
  switch (draft) {
    case 'draft-04':
      ajv = new AjvDraft04(ajvOptions)
      addFormats(ajv)
      break
    case 'draft-06':
      ajv = new AjvDraft06And07(ajvOptions)
      ajv.addMetaSchema(draft06)
      addFormats(ajv)
      break
    case 'draft-07':
      ajv = new AjvDraft06And07(ajvOptions)
      addFormats(ajv)
      ajvFormatsDraft2019(ajv)
      break
    case '2019-09':
      ajv = new Ajv2019(ajvOptions)
      addFormats(ajv)
      ajvFormatsDraft2019(ajv)
      break
    default:
      ajv = new Ajv2020(ajvOptions)
      addFormats(ajv)
      ajvFormatsDraft2019(ajv)
  }
  ajvKeywords(ajv, 'uniqueItemProperties')
  for (const format of options.unknownFormat ?? []) ajv.addFormat(format, true)
  for (const name of options.externalSchema ?? []) {
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(schemaDir, name), 'utf8')))
  }
  return ajv
}

function readDocument(file) {
  const text = fs.readFileSync(path.join(root, file), 'utf8')
  switch (path.extname(file)) {
    case '.json':
      return JSON.parse(text)
    case '.yaml':
    case '.yml':
      return YAML.parse(text)
    case '.toml':
      return TOML.parse(text)
    default:
      throw new Error(`unknown extension: ${file}`)
  }
}

const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'))
for (const { schema: name, files } of cases) {
  const started = process.hrtime.bigint()
  const line = { schema: name, files: [] }
  let validate = null
  try {
    const schema = JSON.parse(fs.readFileSync(path.join(schemaDir, `${name}.json`), 'utf8'))
    validate = ajvFor(name, draftOf(schema)).compile(schema)
  } catch (error) {
    line.error = String(error?.message ?? error).slice(0, 300)
  }
  for (const file of files) {
    let valid = null
    if (validate) {
      try {
        valid = validate(readDocument(file.path)) === true
      } catch (error) {
        valid = null
      }
    } else valid = false
    line.files.push({ path: file.path, valid })
  }
  line.ms = Number(process.hrtime.bigint() - started) / 1e6
  console.log(JSON.stringify(line))
}
