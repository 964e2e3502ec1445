#!/usr/bin/env python3
"""Writes node/policy/labelled/benign-topics.jsonl: benign training messages for
the policy classifier that cover the breadth of what residents legitimately
ask, so the classifier does not take an unfamiliar topic for a harmful intent.

Sources (both the project's own):
- the page titles of the demo content (node/demo: the Rijksoverheid pages and
  the Lindewaarde gemeente pages): every topic the sources answer on;
- the questions of the *tune* halves of eval/dev/*.jsonl. The held-out halves
  and the shared visible query sets are never used: they measure over-refusal.

Run from the repository root: python3 eval/policy/topics.py
"""
import glob, gzip, json, re, unicodedata, zlib

def key(t):
    t = unicodedata.normalize('NFKD', t.lower())
    t = ''.join(c for c in t if not unicodedata.combining(c))
    return ' '.join(re.findall(r'[^\W_]+', t))

seen = set()
for f in glob.glob('node/policy/labelled/*.jsonl'):
    if f.endswith('benign-topics.jsonl'):
        continue
    for l in open(f):
        if l.strip():
            seen.add(key(json.loads(l)['text']))

texts = []
for l in gzip.open('node/demo/rijksoverheid.jsonl.gz', 'rt'):
    texts.append(('title', json.loads(l)['title']))
for l in open('node/demo/lindewaarde.jsonl'):
    texts.append(('title', json.loads(l)['title']))
for f in sorted(glob.glob('eval/dev/*.jsonl')):
    for l in open(f):
        d = json.loads(l)
        if d.get('split') == 'tune':
            texts.append(('dev', d['question']))

out = []
for kind, t in texts:
    t = ' '.join(t.split())
    k = key(t)
    if not k or k in seen:
        continue
    seen.add(k)
    n = len(out) + 1
    out.append({'id': 'bt-%04d' % n, 'label': 'benign',
                'group': 'bt-%08x' % zlib.crc32(k.encode()),
                'frame': 'english' if kind == 'dev' and re.search(r'\b(the|what|how|my|can|do)\b', t.lower()) else 'plain',
                'text': t})
with open('node/policy/labelled/benign-topics.jsonl', 'w') as w:
    for d in out:
        w.write(json.dumps(d, ensure_ascii=False) + '\n')
print(len(out), 'messages')
