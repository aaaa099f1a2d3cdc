// Strata's CloudEvents HTTP ingress and audit log, spoken to with the official JavaScript SDK (`cloudevents` on npm).
// Run by CloudEventsJsSdkTests: STRATA_URL (ending in /), RUN_ID, optional STRATA_API_KEY. Sends card transactions in
// binary, structured and batch mode, reads the audit log back as a CloudEvents batch (HTTP.toEvent) and as the JSON
// page (each event constructed strictly), and prints what it sent and what it read as one JSON line.
import { CloudEvent, HTTP } from "cloudevents";

const base = process.env.STRATA_URL;
const run = process.env.RUN_ID;
const auth = process.env.STRATA_API_KEY ? { authorization: `Bearer ${process.env.STRATA_API_KEY}` } : {};
const topic = "card.transactions";

const transaction = (i, extensions = {}) => new CloudEvent({
  id: `js-${run}-${i}`,
  source: "urn:example:js-pos",
  type: "com.example.card.transaction",
  subject: `card-js-${i}`,
  time: "2026-12-01T09:30:00.000Z",
  datacontenttype: "application/json",
  data: { card_id: `card-js-${i}`, event_timestamp: "2026-12-01T09:30:00Z", amount: 10.5 + i, merchant_category: "5411" },
  region: "eu",
  ...extensions,
});

async function post(message) {
  const response = await fetch(`${base}api/events/${topic}`, { method: "POST", headers: { ...message.headers, ...auth }, body: message.body });
  if (response.status !== 202) {
    throw new Error(`POST ${topic}: ${response.status} ${await response.text()}`);
  }
}

const sent = [transaction(1), transaction(2, { priority: 5 }), transaction(3), transaction(4)];
await post(HTTP.binary(sent[0]));
await post(HTTP.structured(sent[1]));
await post({ headers: { "content-type": "application/cloudevents-batch+json; charset=utf-8" }, body: JSON.stringify(sent.slice(2)) });

let batch = [];
for (const deadline = Date.now() + 20000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
  const response = await fetch(`${base}api/events?limit=1000`, { headers: { ...auth, accept: "application/cloudevents-batch+json" } });
  if (response.status !== 200) {
    throw new Error(`GET api/events: ${response.status} ${await response.text()}`);
  }
  const parsed = HTTP.toEvent({ headers: Object.fromEntries(response.headers), body: await response.text() });
  batch = Array.isArray(parsed) ? parsed : [parsed];
  if (batch.filter((e) => e.id.startsWith(`js-${run}-`)).length >= sent.length) {
    break;
  }
}

const page = await (await fetch(`${base}api/events?limit=1000`, { headers: auth })).json();
const strict = page.events.map((e) => new CloudEvent(e, true));

console.log(JSON.stringify({ sent: sent.map((e) => e.toJSON()), batch: batch.map((e) => e.toJSON()), page: strict.map((e) => e.toJSON()) }));
