// Splits a list answer ({"kind":"PodList","metadata":{…},"items":[{…},{…}]}) into the text of each item
// as its bytes arrive, so no single JSON.parse covers a whole page: the reader parses item by item and
// may yield to the event loop between them (reflector.ts). Only the structure is tracked here (strings,
// escapes, nesting); JSON.parse still validates every item and the rest of the list.

import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from '../model/json-bytes.ts'

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

export interface SplitList<H> {
  /** The list without its items (`"items":[]`): kind, metadata with resourceVersion and continue. */
  head: H
  /** Each item's JSON text, in order. */
  items: string[]
}

export class ListItemSplitter {
  private depth = 0
  private inString = false
  private escaped = false
  /** Inside the top-level "items" array. */
  private inItems = false
  /** The list's text outside the items array, so far. */
  private head = ''
  /** Pieces of an item that began in an earlier chunk. */
  private itemPieces: string[] = []
  private inItem = false
  private readonly items: string[] = []

  write(chunk: string): void {
    let headFrom = this.inItems ? -1 : 0
    let itemFrom = this.inItem ? 0 : -1
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i)
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (c === BACKSLASH) this.escaped = true
        else if (c === QUOTE) this.inString = false
        continue
      }
      if (c === QUOTE) {
        this.inString = true
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (this.inItems && this.depth === 2) {
          if (c !== OPEN_OBJECT) throw new Error('list item is not an object')
          this.inItem = true
          itemFrom = i
        } else if (!this.inItems && this.depth === 1 && c === OPEN_ARRAY) {
          this.head += chunk.slice(headFrom, i + 1)
          headFrom = i + 1
          if (/"items"\s*:\s*\[$/.test(this.head)) {
            this.inItems = true
            headFrom = -1
          }
        }
        this.depth++
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        if (--this.depth < 0) throw new Error('unbalanced JSON')
        if (this.inItem && this.depth === 2) {
          this.itemPieces.push(chunk.slice(itemFrom, i + 1))
          this.items.push(this.itemPieces.length === 1 ? this.itemPieces[0]! : this.itemPieces.join(''))
          this.itemPieces = []
          this.inItem = false
          itemFrom = -1
        } else if (this.inItems && this.depth === 1) {
          this.inItems = false
          headFrom = i
        }
      } else if (this.inItems && !this.inItem && this.depth === 2 && c !== COMMA && !isSpace(c)) {
        throw new Error('list item is not an object')
      }
    }
    if (headFrom >= 0) this.head += chunk.slice(headFrom)
    if (this.inItem) this.itemPieces.push(chunk.slice(itemFrom))
  }

  /** The list once every byte was written; throws on a truncated answer or a head that is not JSON. */
  end<H>(): SplitList<H> {
    if (this.depth !== 0 || this.inString) throw new Error('truncated JSON')
    return { head: JSON.parse(this.head) as H, items: this.items }
  }
}
