#!/usr/bin/env python3
"""Plain SQLite FTS5 BM25 baseline for the retrieval sets.

Indexes every page of a corpus (title + text, HTML stripped) in an in-memory
FTS5 table with the default unicode61 tokenizer (diacritics removed), asks
each question as an OR of its words, and prints nDCG@10 and Recall@10 per set
(and per half of a set whose lines carry "split"). Usage:

    python3 eval/fts5/fts5.py CORPUS.jsonl[,CORPUS.jsonl] SET.jsonl [SET.jsonl ...]

It is the yardstick that BENCHMARKS.md compares the node's retrieval with;
it uses only Python's standard library.
"""
import html
import json
import math
import re
import sqlite3
import sys


def text_of(page):
    body = re.sub(r"<[^>]+>", " ", page.get("html") or page.get("text") or "")
    return html.unescape(page.get("title", "") + " " + body)


def ndcg10(ranked, relevant):
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return dcg / ideal if ideal else 0.0


def main(corpus, sets):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE pages USING fts5(id UNINDEXED, body, tokenize='unicode61 remove_diacritics 2')")
    for path in corpus.split(","):
        with open(path, encoding="utf-8") as f:
            for line in f:
                p = json.loads(line)
                db.execute("INSERT INTO pages(id, body) VALUES (?, ?)", (p["id"], text_of(p)))
    for path in sets:
        halves = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    q = json.loads(line)
                    halves.setdefault(q.get("split", ""), []).append(q)
        for split, qs in halves.items():
            nd = rc = 0.0
            n = 0
            styles = {}
            for q in qs:
                if not q["relevant"]:
                    continue
                words = re.findall(r"\w+", q["question"].lower())
                if not words:
                    continue
                match = " OR ".join('"%s"' % w for w in words)
                rows = db.execute("SELECT id FROM pages WHERE pages MATCH ? ORDER BY bm25(pages) LIMIT 10", (match,)).fetchall()
                ranked = [r[0] for r in rows]
                rel = set(q["relevant"])
                s = ndcg10(ranked, rel)
                nd += s
                rc += len(rel & set(ranked)) / len(rel)
                n += 1
                st = styles.setdefault(q.get("style", ""), [0.0, 0])
                st[0] += s
                st[1] += 1
            name = path + (":" + split if split else "")
            print("%s\t%d queries\tnDCG@10 %.4f\tRecall@10 %.4f" % (name, n, nd / n, rc / n))
            for st, (v, k) in sorted(styles.items()):
                if st:
                    print("  style %s\t%d\tnDCG@10 %.4f" % (st, k, v / k))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
