// Walks the actors' stories through the pages in headless Debian Chromium and saves a
// screenshot of every page at phone and desktop width into $SCREENSHOTS.
//
// Needs BASE_URL (a running certrail with `certrail demo` data), DEMO (the demo's output).
import { chromium } from "playwright-core";
import axe from "axe-core";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.env.BASE_URL;
const demo = readFileSync(process.env.DEMO, "utf8");
const shots = process.env.SCREENSHOTS ?? "target/screenshots";
mkdirSync(shots, { recursive: true });

// The demo prints "  user  password" lines and the certificates' verify URLs.
const passwords = Object.fromEntries(
  [...demo.matchAll(/^ {2}((?:producer|retailer|regulator|lab|certification-body|market-operator)\d+) +(\S+)$/gm)].map((m) => [m[1], m[2]]),
);
const verifyUrls = [...demo.matchAll(/^ {4}(http\S+\/v\/\S+)$/gm)].map((m) => m[1]);
assert.ok(passwords.producer1, "demo output lists producer1's password");
assert.ok(verifyUrls.length >= 1, "demo output lists verify URLs");

const launch = (extra = []) => chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", ...extra,
  ],
});
const browser = await launch();
const sizes = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 900 } };
let failures = 0;

// Accessibility: axe-core's WCAG 2 A/AA rules on every page shot, and our own check, run in the page: a lang attribute, a label for every visible
// form control, alt text on images, an accessible name on every button and link, one h1, and
// text contrast.
function accessibilityProblems() {
  const problems = [];
  if (!document.documentElement.lang) problems.push("html has no lang");
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || el.hidden) continue;
    const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest("label")
      || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!labelled) problems.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name}`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`img without alt: ${img.src}`);
  }
  for (const el of document.querySelectorAll("button, a")) {
    if (el.hidden || el.offsetParent === null) continue;
    if (!(el.innerText || el.getAttribute("aria-label") || "").trim()) problems.push(`unnamed ${el.tagName.toLowerCase()}`);
  }
  // Contrast (WCAG 2): every element with its own visible text, against the first opaque
  // background behind it, at least 4.5:1 (3:1 for large text).
  const rgb = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of document.body.querySelectorAll("*")) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText || el.offsetParent === null || el.closest("svg")) continue;
    const style = getComputedStyle(el);
    const [l1, l2] = [luminance(rgb(style.color)), luminance(background(el))].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}:1 on ${el.tagName.toLowerCase()} "${el.innerText.slice(0, 30)}"`);
  }
  return problems;
}

// Note: sign-in allows a burst of 20 attempts per client address (then one every 10 s); these
// stories sign in 18 times from 127.0.0.1.
// Each story is its own device: the server (told to trust loopback as a proxy) sees it by the
// documentation address it forwards, so the dozens of sign-ins of the whole run do not meet
// the per-device sign-in limit meant for one person.
let devices = 0;

async function story(name, fn, { on = browser, permissions = [], javaScriptEnabled = true, origin = base, only = null } = {}) {
  for (const [size, viewport] of Object.entries(sizes)) {
    if (only && size !== only) continue;
    // STORY=name runs one story (while working on it).
    if (process.env.STORY && process.env.STORY !== name) continue;
    devices += 1;
    const extraHTTPHeaders = { "X-Forwarded-For": `192.0.2.${devices}` };
    const context = await on.newContext({ viewport, locale: "zh-CN", permissions, javaScriptEnabled, extraHTTPHeaders });
    const page = await context.newPage();
    const external = [];
    page.on("request", (r) => { if (!r.url().startsWith(origin)) external.push(r.url()); });
    const shot = async (label) => {
      await page.screenshot({ path: `${shots}/${name}-${label}-${size}.png`, fullPage: true });
      if (label !== "failure") {
        const problems = await page.evaluate(accessibilityProblems);
        assert.deepEqual(problems, [], `accessibility on ${name}/${label}`);
        // axe-core's WCAG 2 A/AA rules as well (evaluated through the driver, so the page's
        // Content-Security-Policy still forbids every script of its own but ours). Pages
        // without JavaScript are the same pages the other stories check with it.
        if (javaScriptEnabled) {
          await page.evaluate(axe.source);
          const { violations } = await page.evaluate(() =>
            window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }));
          assert.deepEqual(
            violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
            [], `axe on ${name}/${label}`);
        }
      }
    };
    try {
      await fn(page, shot);
      assert.deepEqual(external, [], "pages fetch nothing from other origins");
      console.log(`ok   ${name} (${size})`);
    } catch (e) {
      failures++;
      console.log(`FAIL ${name} (${size}): ${e.message}`);
      await shot("failure").catch(() => {});
    }
    await context.close();
  }
}

await story("consumer", async (page, shot) => {
  await page.goto(verifyUrls[0]);
  const verdict = page.getByRole("status");
  await verdict.waitFor();
  assert.match(await verdict.innerText(), /真品/);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  await shot("verify");
  // A problem report, no sign-in needed.
  await page.getByLabel("问题类型").selectOption("quality");
  await page.getByLabel("说明").fill("包装漏气，鸭肉有异味。");
  await page.getByRole("button", { name: "提交" }).click();
  assert.match(await page.locator("h1").innerText(), /感谢您的反馈/);
  await shot("reported");
  await page.getByRole("link", { name: "返回合格证" }).click();
  // The English switch is remembered.
  await page.getByRole("link", { name: "English" }).click();
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.match(await page.getByRole("status").innerText(), /Genuine/);
  await shot("verify-en");
  await page.getByRole("link", { name: "中文" }).click();
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  // A label whose signature was altered reads as forged, in words, not colour alone.
  await page.goto(verifyUrls[0].replace(/s=(.)/, (_, c) => `s=${c === "A" ? "B" : "A"}`));
  assert.match(await page.getByRole("status").innerText(), /疑似伪造/);
  await shot("forged");
});

await story("front-door", async (page, shot) => {
  await page.goto(`${base}/`);
  assert.match(await page.locator("h1").innerText(), /数字产品合格证/);
  assert.equal(await page.locator("#begin").count(), 0, "the demo platform is not a first run");
  await shot("home");
  // A certificate number read off a paper slip finds the certificate's record.
  const id = new URL(verifyUrls[0]).pathname.split("/")[2];
  await page.getByLabel(/合格证编号/).fill(id);
  await page.getByRole("button", { name: "查询" }).click();
  await page.waitForURL(new RegExp(`/c/${id}$`));
  assert.match(await page.locator("h1").innerText(), /合格证记录/);
  assert.match(await page.getByRole("note").innerText(), /只有扫描商品上的标签才能验证标签/);
  assert.ok(!(await page.content()).includes(new URL(verifyUrls[0]).searchParams.get("s")), "no signature");
  await shot("record");
  await page.getByRole("link", { name: "English" }).click();
  assert.match(await page.locator("h1").innerText(), /Certificate record/);
  await shot("record-en");
  await page.getByRole("link", { name: "中文" }).click();
  // Something that is no number: the reason under the field.
  await page.goto(`${base}/`);
  await page.getByLabel(/合格证编号/).fill("不是编号");
  await page.getByRole("button", { name: "查询" }).click();
  assert.match(await page.locator("#lookup-error").innerText(), /不是合格证编号/);
  await shot("lookup-error");
  // An unknown page is a page, in the visitor's language.
  const missing = await page.goto(`${base}/no/such/page`);
  assert.equal(missing.status(), 404);
  assert.match(await page.locator("h1").innerText(), /找不到/);
  await shot("not-found");
});

if (process.env.EMPTY_URL) {
  await story("first-run", async (page, shot) => {
    await page.goto(`${process.env.EMPTY_URL}/`);
    const begin = page.locator("#begin");
    assert.match(await begin.innerText(), /如何开始/);
    assert.match(await page.locator("section.notice").innerText(), /certrail demo/);
    await shot("home");
  }, { origin: process.env.EMPTY_URL });
}

await story("sign-in", async (page, shot) => {
  await page.goto(`${base}/console`);
  assert.match(page.url(), /\/login$/);
  await shot("login");
  await page.getByLabel("用户名").fill("producer1");
  await page.getByLabel("密码").fill("not the password");
  await page.getByRole("button", { name: "登录" }).click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").innerText(), /用户名或密码错误/);
  await shot("wrong-password");
  await page.getByLabel("密码").fill(passwords.producer1);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/console$/);
  assert.match(await page.locator("h1").innerText(), /常德市德山酱板鸭食品有限公司/);
  await shot("console");
  await page.getByRole("link", { name: "English" }).click();
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await shot("console-en");
  await page.getByRole("link", { name: "Password" }).click();
  assert.ok(await page.getByLabel("New password again").isVisible());
  await shot("password-en");
  await page.getByRole("link", { name: "中文" }).click();
  await page.getByRole("button", { name: "退出" }).click();
  await page.waitForURL(/\/login$/);
  await page.goto(`${base}/console`);
  assert.match(page.url(), /\/login$/, "signed out for good");
});

await story("producer", async (page, shot) => {
  await page.goto(`${base}/login`);
  await page.getByLabel("用户名").fill("producer1");
  await page.getByLabel("密码").fill(passwords.producer1);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/console$/);
  await shot("console");
  await page.getByRole("link", { name: "添加产品" }).click();
  const product = `桃源工夫红茶 ${Date.now()}`;
  await page.getByLabel("产品名称").fill(product);
  await page.getByLabel("规格型号").fill("250g/罐");
  await page.getByLabel("执行标准").fill("GB/T 13738.2-2017");
  await page.getByLabel(/商品条码/).fill("6901234567891"); // wrong check digit
  await page.getByRole("button", { name: "添加" }).click();
  await page.getByRole("alert").waitFor();
  assert.equal(await page.getByLabel(/商品条码/).getAttribute("aria-invalid"), "true");
  await shot("product-error");
  await page.getByLabel(/商品条码/).fill("");
  await page.getByRole("button", { name: "添加" }).click();
  await page.waitForURL(/done=product/);
  assert.ok(await page.getByRole("cell", { name: product }).isVisible());
  await page.getByRole("link", { name: "签发合格证" }).click();
  const today = new Date();
  const day = (ago) => new Date(today - ago * 86400000).toISOString().slice(0, 10);
  const batch = `WEB-${Date.now()}`;
  await page.getByLabel("批号").fill(batch);
  await page.getByLabel("数量", { exact: true }).fill("240");
  await page.getByLabel("单位").fill("袋");
  await page.getByLabel("生产日期").fill(day(2));
  await page.getByLabel("检验日期").fill(day(4)); // before production: refused inline
  await page.getByLabel("检验员").fill("质检员07");
  await page.getByLabel("项目 1", { exact: true }).fill("净含量");
  await page.getByLabel("要求 1", { exact: true }).fill("≥ 标示值");
  await page.getByLabel("实测 1", { exact: true }).fill("合格");
  await page.getByRole("button", { name: "签发" }).click();
  await page.getByRole("alert").waitFor();
  assert.equal(await page.getByLabel("检验日期").getAttribute("aria-invalid"), "true");
  await shot("issue-error");
  await page.getByLabel("检验日期").fill(day(1));
  await page.getByRole("button", { name: "签发" }).click();
  await page.waitForURL(/\/console\/certificates\//);
  assert.match(await page.getByRole("status").innerText(), /合格证已签发/);
  assert.ok(await page.getByRole("img", { name: "批次标签二维码" }).isVisible());
  await shot("certificate");
  await page.goto(`${base}/console?q=${batch}`);
  assert.equal(await page.locator("tbody tr").first().locator("td").first().innerText(), batch);
  await shot("search");
});

await story("retailer", async (page, shot) => {
  await page.goto(`${base}/login`);
  await page.getByLabel("用户名").fill("retailer1");
  await page.getByLabel("密码").fill(passwords.retailer1);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/console$/);
  await shot("intake");
  await page.getByLabel(/标签内容（扫码枪/).fill(verifyUrls[verifyUrls.length - 1]);
  await page.getByRole("button", { name: "查验" }).click();
  await page.getByRole("button", { name: "记录进货" }).waitFor();
  assert.match(await page.locator("#result ~ [role=status], section [role=status]").first().innerText(), /真品/);
  await shot("checked");
  await page.getByRole("button", { name: "记录进货" }).click();
  await page.waitForURL(/done=received/);
  assert.match(await page.getByRole("status").first().innerText(), /已记录进货/);
  await shot("recorded");
});

await story("regulator", async (page, shot) => {
  await page.goto(`${base}/login`);
  await page.getByLabel("用户名").fill("regulator1");
  await page.getByLabel("密码").fill(passwords.regulator1);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/console$/);
  assert.ok(await page.getByRole("img", { name: "每周签发的合格证" }).isVisible());
  await shot("dashboard");
  await page.getByLabel(/生产者、信用代码/).fill("常德");
  await page.getByRole("button", { name: "查询" }).click();
  await page.locator("tbody tr a").first().click();
  await page.waitForURL(/\/console\/certificates\//);
  assert.ok(await page.getByRole("button", { name: "记录抽检" }).isVisible());
  await shot("certificate");
  // Errors are pages too, in the visitor's language.
  await page.goto(`${base}/console/certificates/AAAAAAAAAAAAAAAA`);
  assert.match(await page.getByRole("alert").innerText(), /找不到/);
  await shot("not-found");
});

// Without JavaScript: the label page, and goods intake by scanner or paste (no camera button).
await story("no-script", async (page, shot) => {
  await page.goto(verifyUrls[1] ?? verifyUrls[0]);
  assert.match(await page.getByRole("status").innerText(), /真品/);
  await page.goto(`${base}/login`);
  await page.getByLabel("用户名").fill("retailer1");
  await page.getByLabel("密码").fill(passwords.retailer1);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/console$/);
  assert.equal(await page.getByRole("button", { name: "用相机扫码" }).count(), 0, "no camera without script");
  await page.getByLabel(/标签内容（扫码枪/).fill(verifyUrls[1] ?? verifyUrls[0]);
  await page.getByRole("button", { name: "查验" }).click();
  await page.getByRole("button", { name: "记录进货" }).click();
  await page.waitForURL(/done=received/);
  assert.match(await page.getByRole("status").first().innerText(), /已记录进货/);
  await shot("intake-recorded");
}, { javaScriptEnabled: false });

// The intake camera, decoding in the page (jsQR: headless Chromium on Linux has no
// BarcodeDetector). Chromium's fake camera plays a video made from the platform's own label
// PNG, so the code read is a real, signed label.
async function labelVideo(url, path) {
  const [w, h] = [640, 480];
  const page = await browser.newPage();
  await page.goto(url);
  const luma = await page.evaluate(async ([src, w, h]) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, (w - 400) / 2, (h - 400) / 2, 400, 400);
    const rgba = ctx.getImageData(0, 0, w, h).data;
    return Array.from({ length: w * h }, (_, i) =>
      Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]));
  }, [url, w, h]);
  await page.close();
  // One grey 4:2:0 frame (chroma planes neutral), which the fake camera loops.
  writeFileSync(path, Buffer.concat([
    Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\nFRAME\n`),
    Buffer.from(luma),
    Buffer.alloc((w * h) / 2, 128),
  ]));
}

const scanned = verifyUrls[0];
const video = `${mkdtempSync(join(tmpdir(), "certrail-camera-"))}/label.y4m`;
await labelVideo(`${base}/api/v1/certificates/${new URL(scanned).pathname.split("/")[2]}/qr.png`, video);
const withCamera = await launch([
  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
  `--use-file-for-fake-video-capture=${video}`,
]);
await story("camera", async (page, shot) => {
  await page.goto(`${base}/login`);
  await page.getByLabel("用户名").fill("retailer1");
  await page.getByLabel("密码").fill(passwords.retailer1);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/console$/);
  await page.getByRole("button", { name: "用相机扫码" }).click();
  await page.waitForURL(/label=/, { timeout: 20000 });
  assert.equal(await page.getByLabel(/标签内容（扫码枪/).inputValue(), scanned, "the camera read the label");
  assert.match(await page.locator("section [role=status]").first().innerText(), /真品/);
  await shot("checked");
}, { on: withCamera, permissions: ["camera"] });
await withCamera.close();

await story("trust", async (page, shot) => {
  // The public log in words, with what an inspector takes along.
  await page.goto(`${base}/transparency`);
  assert.match(await page.locator("h1").innerText(), /公开日志/);
  assert.ok(await page.getByRole("link", { name: "下载信任包" }).isVisible());
  assert.match(await page.locator("#offline").locator("..").innerText(), /certrail verify/);
  await shot("transparency");
  await page.getByRole("link", { name: "English" }).click();
  assert.match(await page.locator("h1").innerText(), /The public log/);
  await shot("transparency-en");
  await page.getByRole("link", { name: "中文" }).click();
  // A label's page says where the certificate is in the log.
  await page.goto(verifyUrls[0]);
  const log = page.locator("#public-log").locator("..");
  assert.match(await log.innerText(), /已记录在公开日志中，第 \d+ 条/);
  await shot("label-log");
  // A producer's keys and tokens.
  await page.goto(`${base}/login`);
  await page.getByLabel("用户名").fill("producer1");
  await page.getByLabel("密码").fill(passwords.producer1);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/console$/);
  await page.getByRole("link", { name: "密钥与令牌" }).click();
  assert.match(await page.locator("h1").innerText(), /密钥与接口令牌/);
  assert.ok(await page.getByRole("cell", { name: "active" }).first().isVisible());
  await shot("access");
  await page.getByLabel("名称（用途）").fill("ERP 夜间导出");
  await page.getByLabel("权限").selectOption("issue");
  await page.getByRole("button", { name: "生成令牌" }).click();
  const made = page.getByRole("status");
  assert.match(await made.innerText(), /ctr_/);
  await shot("token-made");
  await page.getByRole("button", { name: "撤销 ERP 夜间导出" }).click();
  await page.waitForURL(/done=revoked/);
  assert.match(await page.getByRole("status").innerText(), /令牌已撤销/);
  assert.equal(await page.getByRole("cell", { name: "ERP 夜间导出" }).count(), 0);
  await shot("revoked");
});

// The regulatory workflows: a consumer asks for 先行赔付 from a label and follows the case,
// anyone looks up a certification mark, and the regulator reads its report (charts drawn on
// the server), the region's cases and its oversight page.
await story("oversight", async (page, shot) => {
  await page.goto(verifyUrls[0]);
  await page.getByRole("link", { name: /申请先行赔付/ }).click();
  await page.waitForURL(/\/claim/);
  assert.match(await page.locator("h1").innerText(), /申请先行赔付/);
  await page.getByLabel("问题类型").selectOption("quality");
  await page.getByLabel("说明").fill("开袋后有异味");
  await page.getByLabel(/您的要求/).fill("退款 39.8 元");
  await shot("claim");
  await page.getByRole("button", { name: "提交申请" }).click();
  await page.waitForURL(/\/cases\/PF-/);
  assert.match(await page.locator("h1").innerText(), /PF-[A-Z0-9]{4}-/);
  assert.match(await page.locator("dl").innerText(), /等待对方受理/);
  await shot("case");
  await page.goto(`${base}/marks?scheme=organic&cert_no=1240P2300123`);
  assert.match(await page.locator("main").innerText(), /有效/);
  await shot("mark");
  await page.goto(`${base}/login`);
  await page.getByLabel("用户名").fill("regulator1");
  await page.getByLabel("密码").fill(passwords.regulator1);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/console$/);
  await page.getByRole("link", { name: "报表" }).click();
  assert.ok(await page.getByRole("img", { name: "各县区签发合格证数量" }).isVisible());
  assert.match(await page.locator("#totals").locator("..").innerText(), /签发合格证/);
  await shot("reports");
  await page.getByRole("link", { name: "赔付案件" }).click();
  assert.match(await page.locator("main").innerText(), /开袋后有异味/);
  await shot("cases");
  await page.getByRole("link", { name: "监管处置" }).click();
  assert.match(await page.locator("#audit").locator("..").innerText(), /lab\.confirm_accreditation/);
  await shot("oversight");
});

// GB 32100 check character of a credit code's first 17 characters.
function creditCode(first17) {
  const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const sum = [...first17].reduce((s, c, i) => s + chars.indexOf(c) * weights[i], 0);
  return first17 + chars[(31 - (sum % 31)) % 31];
}

// A lot of rice on its 承诺达标合格证: the co-operative promises it, ships it to the wholesale
// market, which takes it in, splits it for two stallholders and ships each its part; each
// stallholder takes its part in; a consumer scans a part on the phone; the co-operative recalls
// the lot and the recall reaches both stallholders. Phone size only: each actor signs in once.
await story("rice-lot", async (page, shot) => {
  const signIn = async (user) => {
    await page.context().clearCookies();
    await page.goto(`${base}/login`);
    await page.getByLabel("用户名").fill(user);
    await page.getByLabel("密码").fill(passwords[user]);
    await page.getByRole("button", { name: "登录" }).click();
    await page.waitForURL(/\/console$/);
  };
  // The lot's printed batch label, read with zbar (an answer without a label's signature
  // never echoes it).
  const labelOf = async (id) => {
    const answer = await (await page.request.get(`${base}/v/${id}`, { headers: { Accept: "application/json" } })).json();
    const png = join(mkdtempSync(join(tmpdir(), "certrail-label-")), "label.png");
    writeFileSync(png, await (await page.request.get(`${base}/api/v1/certificates/${id}/qr.png`)).body());
    const url = execFileSync("zbarimg", ["--raw", "-q", png], { encoding: "utf8" }).trim();
    return { answer, url };
  };
  const ship = async (certificate, consignee) => {
    await page.getByLabel("合格证编号或标签内容", { exact: true }).fill(certificate);
    await page.getByLabel("收货方统一社会信用代码").fill(consignee);
    await page.getByRole("button", { name: "记录发货" }).click();
    await page.waitForURL(/done=shipped/);
  };
  const intake = async (url) => {
    await page.getByLabel(/标签内容（扫码枪/).fill(url);
    await page.getByRole("button", { name: "查验" }).click();
    await page.getByRole("button", { name: "记录进货" }).click();
    await page.waitForURL(/done=received/);
  };
  const market = creditCode("91430702MA4U3H5L7");
  const [stallA, stallB] = [creditCode("92430702MA4X6J8M9"), creditCode("92430702MA4W9K1N3")];
  const lot = `DX-${Date.now()}`;

  await signIn("producer4");
  await page.locator("#promise-batch").fill(lot);
  await page.locator("#promise-quantity").fill("1000");
  await page.getByLabel("产地行政区划代码").fill("430721");
  await page.getByLabel("产地", { exact: true }).fill("安乡县安障乡稻丰村 3 号田");
  await page.locator("#promise-contact").fill("0736-4321000");
  await page.getByRole("button", { name: "开具", exact: true }).click();
  await page.waitForURL(/\/c\//);
  const parent = page.url().split("/c/")[1];
  assert.match(await page.locator("main").innerText(), /承诺达标合格证/);
  await shot("promised");
  await page.goto(`${base}/console`);
  await ship(parent, market);

  await signIn("market-operator1");
  assert.match(await page.locator("#incoming").locator("..").innerText(), new RegExp(lot));
  await shot("market-incoming");
  await intake((await labelOf(parent)).url);
  await page.getByLabel(/原合格证编号或标签内容/).fill(parent);
  await page.getByLabel(/分装后的批次/).fill(`${lot}-A12, 600\n${lot}-B07, 400`);
  await page.locator("#split-contact").fill("市场管理处 0736-7001234");
  await page.getByRole("button", { name: "开具", exact: true }).click();
  await page.waitForURL(/done=split/);
  assert.match(await page.locator("#kept").locator("..").innerText(), new RegExp(lot));
  await shot("market-split");
  const children = (await labelOf(parent)).answer.lineage.children;
  assert.equal(children.length, 2);
  const [childA, childB] = children;
  await ship(childA.id, stallA);
  await ship(childB.id, stallB);

  for (const [user, child] of [["retailer3", childA], ["retailer4", childB]]) {
    await signIn(user);
    await intake((await labelOf(child.id)).url);
    await shot(`${user}-intake`);
  }

  // Stall A12 also scans in stall B07's part, which nobody shipped to it: the intake waits as a
  // claim; the market (the part's issuer) sees it on its console and disputes it.
  await signIn("retailer3");
  await page.getByLabel(/标签内容（扫码枪/).fill((await labelOf(childB.id)).url);
  await page.getByRole("button", { name: "查验" }).click();
  await page.getByRole("button", { name: "记录进货" }).click();
  await page.waitForURL(/done=claimed/);
  assert.match(await page.getByRole("status").first().innerText(), /待上一持有方/);
  assert.match(await page.locator("#claims").locator("..").innerText(), /待确认/);
  await shot("retailer3-claim");
  await signIn("market-operator1");
  const claims = page.locator("#claims").locator("..");
  assert.match(await claims.innerText(), new RegExp(`${lot}-B07`));
  await claims.getByLabel("异议理由").fill("该批次只发给了 B07 摊位");
  await shot("market-claim");
  await claims.getByRole("button", { name: "提出异议" }).click();
  await page.waitForURL(/done=claim_decided/);
  assert.match(await page.locator("#claims").locator("..").innerText(), /有异议: 该批次只发给了 B07 摊位/);
  await shot("market-claim-disputed");

  // The consumer's phone: the part bought at stall A12.
  await page.context().clearCookies();
  const bought = (await labelOf(childA.id)).url;
  await page.goto(bought);
  const seen = await page.locator("main").innerText();
  assert.match(seen, /真品|有效/);
  assert.match(seen, /承诺达标合格证/);
  assert.match(seen, /安乡县安障乡稻丰村 3 号田/);
  assert.match(seen, /发往 常德市农产品批发市场 A12 摊位/);
  await shot("consumer");

  // The co-operative recalls the lot: both parts are recalled and both stallholders see it.
  await signIn("producer4");
  await page.goto(`${base}/console/certificates/${parent}`);
  await page.locator("#recall-reason").fill("抽检发现镉超标");
  await page.getByRole("button", { name: "发布召回" }).click();
  await page.waitForURL(/done=recalled/);
  await page.goto(bought);
  assert.match(await page.locator("h1").innerText(), /召回/);
  await shot("consumer-recalled");
  for (const user of ["retailer3", "retailer4"]) {
    await signIn(user);
    assert.match(await page.locator("#recalls").locator("..").innerText(), /镉超标/);
    await shot(`${user}-recall`);
  }
}, { only: "phone" });

await browser.close();
if (failures > 0) {
  console.log(`${failures} browser stor${failures === 1 ? "y" : "ies"} failed; screenshots in ${shots}`);
  process.exit(1);
}
console.log(`browser stories passed; screenshots in ${shots}`);
