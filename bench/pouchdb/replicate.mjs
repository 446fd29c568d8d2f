// The PouchDB baseline of bench/link_figures.sh: what an offline-first system on the CouchDB
// replication protocol does with the same records.
//   node replicate.mjs serve DIR          a CouchDB-protocol server (express-pouchdb, LevelDB in
//                                         DIR) on 127.0.0.1; prints "listening 127.0.0.1:PORT"
//   node replicate.mjs push DIR JSONL URL loads the records of JSONL (osrc-gen lines) into a
//                                         local database in DIR, then replicates it to URL once;
//                                         prints {"docs": N, "ms": M}, M the replication alone
import http from 'node:http';
import fs from 'node:fs';
import readline from 'node:readline';
import PouchDB from 'pouchdb-node';
import expressPouchDB from 'express-pouchdb';

async function serve(dir) {
  fs.mkdirSync(dir, {recursive: true});
  const ServerPouch = PouchDB.defaults({prefix: dir + '/'});
  const app = expressPouchDB(ServerPouch, {mode: 'minimumForPouchDB', logPath: dir + '/log.txt'});
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1', () => {
    console.log(`listening 127.0.0.1:${server.address().port}`);
  });
}

async function push(dir, jsonl, url) {
  const local = new PouchDB(dir);
  let batch = [];
  let docs = 0;
  const lines = readline.createInterface({input: fs.createReadStream(jsonl)});
  for await (const line of lines) {
    if (!line.trim()) continue;
    const record = JSON.parse(line);
    batch.push({_id: `${record.collection}/${record.id}`, ...record.fields});
    if (batch.length === 1000) {
      await local.bulkDocs(batch);
      docs += batch.length;
      batch = [];
    }
  }
  if (batch.length) {
    await local.bulkDocs(batch);
    docs += batch.length;
  }
  const started = Date.now();
  const result = await PouchDB.replicate(local, new PouchDB(url));
  if (!result.ok || result.docs_written !== docs) {
    throw new Error(`replicated ${result.docs_written} of ${docs} documents`);
  }
  console.log(JSON.stringify({docs, ms: Date.now() - started}));
}

const [command, ...args] = process.argv.slice(2);
try {
  if (command === 'serve' && args.length === 1) {
    await serve(args[0]);
  } else if (command === 'push' && args.length === 3) {
    await push(...args);
  } else {
    console.error('usage: node replicate.mjs serve DIR | push DIR JSONL URL');
    process.exit(2);
  }
} catch (e) {
  console.error(`replicate.mjs: ${e.message}`);
  process.exit(1);
}
