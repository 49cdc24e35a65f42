// Shared by the benchmarks: keep the last run of each as JSON under bench/results/.
import { mkdir, writeFile } from 'node:fs/promises'


export async function writeResult(name: string, data: unknown): Promise<void> {
  const dir = new URL('../results/', import.meta.url)
  await mkdir(dir, { recursive: true })
  await writeFile(new URL(`${name}.json`, dir), JSON.stringify({ at: new Date().toISOString(), node: process.version, ...(data as object) }, null, 2) + '\n')
}
