#!/usr/bin/env python3
"""Answer metrics of any build's `assistent ask --json` on question sets.

For comparing builds that predate `assistent eval answers` on query sets (the
mode metrics): asks each question through the binary, one process per
question, and prints per set (and half) the share of answerable questions
with a relevant page among the first three citations of a reply that is not
refused, the share refused, the share of non-refused replies citing a
relevant page, and the share with a stitching defect (the rule of
quality.StitchDefect, with the corpus pages' text for adjacency). Usage:

    python3 eval/askset/askset.py BINARY DATA_DIR SET.jsonl@TENANT [...]

It reads the corpora from ../shared/eval (run it from the repository root).
"""
import json, subprocess, sys, re, html
corpus = {}
for path in ["../shared/eval/rijksoverheid/corpus.jsonl", "../shared/eval/gemeente-voorbeeld/corpus.jsonl"]:
    for l in open(path):
        p = json.loads(l)
        t = re.sub(r"<[^>]+>", " ", p.get("html") or p.get("text") or "")
        corpus[p["id"]] = " ".join(html.unescape(t).split())
dang = re.compile(r"^(Dan|En|Maar|Ook|Dus|Daarom|Dit|Deze|Daar)\b")
sent = re.compile(r"[^\n.!?]+(?:[.!?]+|$)")
def defect(text, cites):
    text = re.sub(r"\s*\[\d+\]", "", text)
    if " | " in text: return True
    pages = [corpus.get(c, "") for c in cites]
    for line in text.split("\n"):
        prev = ""
        for s in sent.findall(line):
            s = s.strip().lstrip("-• ").strip()
            if not s: continue
            if dang.match(s) and not prev.endswith("?"):
                ab = " ".join((prev + " " + s).split())
                if not prev or not any(ab in p for p in pages): return True
            prev = s
    return False
binary, data, spec = sys.argv[1], sys.argv[2], sys.argv[3:]
for sp in spec:
    path, tenant = sp.split("@")
    rows = [json.loads(l) for l in open(path) if l.strip()]
    halves = {}
    for r in rows: halves.setdefault(r.get("split", ""), []).append(r)
    for split, qs in halves.items():
        n = ans = right3 = hard = ansright = defects = 0
        for q in qs:
            out = subprocess.run([binary, "ask", "--data", data, "--tenant", tenant, "--json", q["question"]], capture_output=True, text=True)
            a = json.loads(out.stdout)
            cites = [c["id"] for c in a["citations"]]
            rel = set(q["relevant"])
            if not rel: continue
            n += 1
            if a["refused"]:
                hard += 1; continue
            ans += 1
            if rel & set(cites[:3]): right3 += 1; ansright += 1
            if defect(a["answer"], cites): defects += 1
        print(f"{path}:{split}\tanswerable {n}\tright@3 {right3/n:.4f}\thard refusals {hard/n:.4f}\tanswers citing right {ansright/max(ans,1):.4f}\tdefects {defects/max(ans,1):.4f}")
