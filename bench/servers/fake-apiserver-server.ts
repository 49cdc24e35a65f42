// The test API server, filled with the benchmark cluster, in its own process so its JSON work does not
// share a core with the cache being measured.
import { FakeApiServer } from '../../test/helpers/fake-apiserver.ts'
import { clusterObjects, trafficObjects } from '../lib/cluster-objects.ts'

const fake = new FakeApiServer()
fake.seed(clusterObjects())
fake.seed(trafficObjects())
await fake.start()
process.stdout.write(`listening ${new URL(fake.url).port}\n`)
// SIGUSR1: history compacted and watches dropped, so every watch resumes into 410 Gone and re-lists.
process.on('SIGUSR1', () => {
  fake.compact()
  fake.dropWatches()
})
process.on('SIGTERM', () => void fake.stop().then(() => process.exit(0)))
