// The bytes of JSON's structure, for the scanners that look at a body before (or instead of) parsing it
// whole: the structure limits of admission bodies (src/http/json-body.ts) and the item splitter of list
// answers (src/cluster/list-items.ts).
export const QUOTE = 0x22
export const BACKSLASH = 0x5c
export const OPEN_OBJECT = 0x7b
export const CLOSE_OBJECT = 0x7d
export const OPEN_ARRAY = 0x5b
export const CLOSE_ARRAY = 0x5d
export const COMMA = 0x2c
