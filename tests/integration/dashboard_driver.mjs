// Drives Debian's Chromium for the dashboard test (test_status_dashboard.py),
// through playwright-core (no browser download: /usr/bin/chromium).
//
// One JSON command per line on stdin, one JSON answer per line on stdout:
//   {"op": "goto", "url": "..."}
//   {"op": "wait", "js": "<expression>", "timeout_ms": 15000}   until it is truthy
//   {"op": "eval", "js": "<expression>"}                        its value
//   {"op": "screenshot", "path": "..."}
//   {"op": "quit"}
// Answers: {"ok": true, "value": ...} or {"ok": false, "error": "..."}.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // As root in a sandbox without a network: no sandbox, nothing phoned home.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
// The page's Content-Security-Policy forbids eval; the test's expressions are not the page's.
const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, bypassCSP: true });
const problems = [];
page.on("pageerror", (e) => problems.push("page error: " + e.message));
page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });

const answer = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line);
  try {
    if (cmd.op === "goto") {
      await page.goto(cmd.url, { waitUntil: "load", timeout: 15000 });
      answer({ ok: true });
    } else if (cmd.op === "wait") {
      await page.waitForFunction(cmd.js, null, { timeout: cmd.timeout_ms || 15000, polling: 100 });
      answer({ ok: true });
    } else if (cmd.op === "eval") {
      answer({ ok: true, value: await page.evaluate(cmd.js) });
    } else if (cmd.op === "screenshot") {
      await page.screenshot({ path: cmd.path, fullPage: true });
      answer({ ok: true });
    } else if (cmd.op === "problems") {
      answer({ ok: true, value: problems });
    } else if (cmd.op === "quit") {
      answer({ ok: true });
      break;
    } else {
      answer({ ok: false, error: "unknown op " + cmd.op });
    }
  } catch (e) {
    answer({ ok: false, error: String(e.message || e) });
  }
}
// A live stream can keep close() waiting: give it 3 s.
await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 3000))]);
process.exit(0);
