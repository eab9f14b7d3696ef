#!/usr/bin/env python3
# Prints the per-cause table of docs/releases.md from the log corpus headers
# (testdata/logs: lab/ via lab.expected, local-2211/, lab-releases/ and gazelle-1.0.2/ are real;
# synthetic/ and public/ are not). Run from the repository root after make build.
import os, re, json, subprocess, collections
root='testdata/logs'
entries=json.loads(subprocess.check_output(['./bin/gzdoctor','-o','json','runbooks','list']))['data']['entries']
real=collections.defaultdict(set); fix=collections.defaultdict(set); pub=collections.defaultdict(set)
lab_exp={}
for line in open(os.path.join(root,'lab.expected')):
    line=line.strip()
    if not line or line.startswith('#'): continue
    path,rest=line.split(':',1)
    lab_exp[path.strip()]=rest.split('|')[0].strip()
def causes_of(path):
    first=None; also=[]
    with open(path,errors='replace') as f:
        for l in f:
            if not l.startswith('#'): continue
            m=re.match(r'# expected:\s*(\S+)',l)
            if m: first=m.group(1)
            m=re.match(r'# also:\s*(.*)',l)
            if m: also+= [x.strip() for x in m.group(1).split(',') if x.strip()]
    return first, also
def versions(name, text):
    vs=set(re.findall(r'(?<![\d.])(1[6-9]\.\d\d|2[0-5]\.\d\d)(?![\d])', name))
    if not vs:
        vs=set(re.findall(r'DPDK (\d\d\.\d\d)', text))
    return vs
for d in sorted(os.listdir(root)):
    dp=os.path.join(root,d)
    if not os.path.isdir(dp) or d=='wrapped': continue
    for fn in sorted(os.listdir(dp)):
        if not fn.endswith('.log'): continue
        p=os.path.join(dp,fn)
        head=''.join(l for l in open(p,errors='replace') if l.startswith('#'))
        if d=='lab':
            c=lab_exp.get('lab/'+fn)
        else:
            c,_=causes_of(p)
        if not c or c=='none': continue
        if d in ('lab','local-2211'):
            real[c].add('22.11')
        elif d=='gazelle-1.0.2':
            real[c].add('22.11 (Gazelle 1.0.2)')
        elif d=='lab-releases':
            for v in re.findall(r'(\d\d\.\d\d)', fn): real[c].add(v)
        elif d=='synthetic':
            vs=versions(fn, head) or {'?'}
            fix[c]|=vs
        elif d=='public':
            vs=versions(fn, head)
            pub[c]|= (vs or {'unstated'})
def fmt(s):
    return ', '.join(sorted(s, key=lambda v:(v=='?' or v=='unstated', v))) if s else '—'
print('| cause | ref | real, on the lab (release) | synthetic fixtures (DPDK version of the wording) | public logs (version) |')
print('|---|---|---|---|---|')
for e in entries:
    i=e['id']
    print(f"| `{i}` | {e['ref']} | {fmt(real[i])} | {fmt(fix[i])} | {fmt(pub[i])} |")
