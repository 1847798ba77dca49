#!/usr/bin/env python3
"""Render-check of the Helm chart deploy/helm/maestro without helm.

Helm is not packaged for Debian nor on the registries this project reaches, so this renders the
chart's templates with a small interpreter of the Go-template subset they use (if/else/end,
define/include, `range $v := ...` over `until`, the variables `$` and `$v`, printf, quote,
contains, default, toYaml, toJson, toPrettyJson, nindent, indent, trunc, trimSuffix, sha256sum,
int, until, gt, le, and, or, not, parenthesised sub-pipelines; anything else is an error, so the
templates stay inside what is checked here), parses every manifest as YAML and checks the objects fit
together: selectors match pod labels, probes and Services name container ports that exist, the
probes hit the apps' health endpoints, every container has resource requests and limits, the
rApp is pointed at the xApp's Service, and the ServiceMonitor / PVC appear only when enabled.
With MAESTRO_BIN set, the rendered xApp config and both containers' arguments are also checked
by the real binary (`maestro xapp ... --print-config`, `maestro rapp ... --help`).
When `helm` is on PATH, `helm lint` and `helm template` run too and their output is checked
the same way.

The sharded layouts (xapp.replicas / rapp.replicas > 1: StatefulSets of shards, headless
Services, each pod's shard from its ordinal, one rApp URL pair per xApp pod) are rendered and
checked too.

Usage: .ci/helm-check.py [CHART_DIR]   (exit 0 when every check passes)
       .ci/helm-check.py --render KEY=VALUE...   (the manifests as JSON, e.g. xapp.replicas=4)
"""

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "deploy", "helm", "maestro")

ACTION = re.compile(r"\{\{(-?)(\s*)(.*?)(\s*)(-?)\}\}", re.S)


class TemplateError(Exception):
    pass


# ---------------------------------------------------------------- parsing


def lex(text):
    """Text and action tokens, with {{- and -}} whitespace trimming applied."""
    tokens = []
    pos = 0
    trim_next = False
    for m in ACTION.finditer(text):
        chunk = text[pos : m.start()]
        if trim_next:
            chunk = chunk.lstrip()
        if m.group(1) == "-":
            chunk = chunk.rstrip()
        tokens.append(("text", chunk))
        body = m.group(3)
        if not (body.startswith("/*") and body.endswith("*/")):
            tokens.append(("action", body))
        trim_next = m.group(5) == "-"
        pos = m.end()
    chunk = text[pos:]
    if trim_next:
        chunk = chunk.lstrip()
    tokens.append(("text", chunk))
    return tokens


def parse(tokens, defines, i=0, stop=None):
    """Nodes up to the matching stop keyword (None: the end of the file); returns (nodes,
    index, keyword)."""
    nodes = []
    while i < len(tokens):
        kind, body = tokens[i]
        i += 1
        if kind == "text":
            nodes.append(("text", body))
            continue
        word = body.split(None, 1)[0] if body else ""
        if word in ("end", "else"):
            if stop is None or word not in stop:
                raise TemplateError(f"unexpected {{{{ {body} }}}}")
            return nodes, i, word
        if word == "if":
            then, i, kw = parse(tokens, defines, i, ("end", "else"))
            other = []
            if kw == "else":
                other, i, _ = parse(tokens, defines, i, ("end",))
            nodes.append(("if", body[2:].strip(), then, other))
        elif word == "range":
            m = re.fullmatch(r"range\s+\$(\w+)\s*:=\s*(.+)", body, re.S)
            if not m:
                raise TemplateError(f"only `range $v := LIST` is in the subset: {{{{ {body} }}}}")
            inner, i, _ = parse(tokens, defines, i, ("end",))
            nodes.append(("range", m.group(1), m.group(2).strip(), inner))
        elif word == "define":
            name = json.loads(body[6:].strip())
            inner, i, _ = parse(tokens, defines, i, ("end",))
            defines[name] = inner
        elif word in ("with", "template", "block", "tpl"):
            raise TemplateError(f"'{word}' is outside the subset this check renders")
        else:
            nodes.append(("action", body))
    if stop is not None:
        raise TemplateError("unclosed {{ if }} or {{ define }}")
    return nodes, i, None


# ---------------------------------------------------------------- evaluation


def go_str(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "<nil>"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        raise TemplateError(f"printing a {type(v).__name__} without toYaml/toJson: {v!r}")
    return str(v)


def truthy(v):
    return bool(v) and v != 0


def go_printf(fmt, *args):
    out, args = [], list(args)

    def repl(m):
        verb = m.group(1)
        if verb == "%":
            return "%"
        if not args:
            raise TemplateError(f"printf {fmt!r}: too few arguments")
        a = args.pop(0)
        if verb in ("s", "v", "d"):
            return go_str(a)
        if verb == "q":
            return json.dumps(go_str(a))
        raise TemplateError(f"printf verb %{verb}")

    out = re.sub(r"%([a-z%])", repl, fmt)
    return out


def to_yaml(v):
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n")


def indent(n, s):
    pad = " " * int(n)
    return "\n".join(pad + line for line in go_str(s).split("\n"))


FUNCS = {
    "printf": go_printf,
    "quote": lambda v: json.dumps(go_str(v)),
    "default": lambda d, v=None: v if truthy(v) else d,
    "toYaml": to_yaml,
    "toJson": lambda v: json.dumps(v, separators=(",", ":"), sort_keys=True),
    "toPrettyJson": lambda v: json.dumps(v, indent=2, sort_keys=True),
    "nindent": lambda n, s: "\n" + indent(n, s),
    "indent": indent,
    "trunc": lambda n, s: go_str(s)[: int(n)],
    "trimSuffix": lambda suf, s: go_str(s)[: -len(suf)] if go_str(s).endswith(suf) else go_str(s),
    "sha256sum": lambda s: hashlib.sha256(go_str(s).encode()).hexdigest(),
    "not": lambda v: not truthy(v),
    "and": lambda *vs: next((v for v in vs if not truthy(v)), vs[-1]),
    "or": lambda *vs: next((v for v in vs if truthy(v)), vs[-1]),
    "int": lambda v: int(v or 0),
    "until": lambda n: list(range(int(n))),
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "contains": lambda sub, s: go_str(sub) in go_str(s),
}


def split_top(s, sep):
    """Splits s on sep outside quotes and parentheses."""
    parts, depth, quote, cur = [], 0, False, ""
    for ch in s:
        if ch == '"' and (not cur or cur[-1] != "\\"):
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if not quote and depth == 0 and (ch == sep if sep != " " else ch.isspace()):
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


class Renderer:
    def __init__(self, defines, ctx):
        self.defines = defines
        self.ctx = ctx
        # Template variables: `$` (the data the template or include was given) and `$v`.
        self.vars = [{"$": ctx}]

    def lookup(self, path, dot):
        if path == ".":
            return dot
        cur = dot
        if path.startswith("$"):
            name, _, path = path.partition(".")
            if name not in self.vars[-1]:
                raise TemplateError(f"undefined variable {name}")
            cur = self.vars[-1][name]
            if not path:
                return cur
        for key in path.strip(".").split("."):
            if not isinstance(cur, dict):
                raise TemplateError(f"{path}: not a map at {key}")
            cur = cur.get(key)
        return cur

    def arg(self, tok, dot):
        if tok.startswith("(") and tok.endswith(")"):
            return self.pipeline(tok[1:-1], dot)
        if tok.startswith('"'):
            return json.loads(tok)
        if re.fullmatch(r"-?\d+", tok):
            return int(tok)
        if tok in ("true", "false"):
            return tok == "true"
        if tok.startswith((".", "$")):
            return self.lookup(tok, dot)
        raise TemplateError(f"unknown token {tok!r}")

    def command(self, cmd, dot, piped=None, has_piped=False):
        toks = split_top(cmd, " ")
        head = toks[0]
        if head == "include":
            name = self.arg(toks[1], dot)
            if name not in self.defines:
                raise TemplateError(f"include of undefined {name!r}")
            data = self.arg(toks[2], dot)
            self.vars.append({"$": data})
            try:
                return self.render(self.defines[name], data)
            finally:
                self.vars.pop()
        if head in FUNCS:
            args = [self.arg(t, dot) for t in toks[1:]]
            if has_piped:
                args.append(piped)
            return FUNCS[head](*args)
        if len(toks) != 1 or has_piped:
            raise TemplateError(f"unsupported command {cmd!r}")
        return self.arg(head, dot)

    def pipeline(self, expr, dot):
        cmds = split_top(expr, "|")
        value = self.command(cmds[0], dot)
        for c in cmds[1:]:
            value = self.command(c, dot, value, True)
        return value

    def render(self, nodes, dot):
        out = []
        for node in nodes:
            if node[0] == "text":
                out.append(node[1])
            elif node[0] == "action":
                out.append(go_str(self.pipeline(node[1], dot)))
            elif node[0] == "if":
                branch = node[2] if truthy(self.pipeline(node[1], dot)) else node[3]
                out.append(self.render(branch, dot))
            elif node[0] == "range":
                _, var, expr, body = node
                items = self.pipeline(expr, dot)
                if not isinstance(items, list):
                    raise TemplateError(f"range over a {type(items).__name__}: {expr}")
                for item in items:
                    self.vars.append({**self.vars[-1], "$" + var: item})
                    try:
                        out.append(self.render(body, item))
                    finally:
                        self.vars.pop()
        return "".join(out)


def load_chart(chart):
    with open(os.path.join(chart, "Chart.yaml")) as f:
        meta = yaml.safe_load(f)
    with open(os.path.join(chart, "values.yaml")) as f:
        values = yaml.safe_load(f)
    return meta, values


def deep_merge(base, over):
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def render_chart(chart, overrides=None, release="demo"):
    meta, values = load_chart(chart)
    values = deep_merge(values, overrides or {})
    ctx = {
        "Values": values,
        "Release": {"Name": release, "Namespace": "ric", "Service": "Helm"},
        "Chart": {"Name": meta["name"], "Version": meta["version"], "AppVersion": meta["appVersion"]},
    }
    tdir = os.path.join(chart, "templates")
    defines, bodies = {}, {}
    for name in sorted(os.listdir(tdir)):
        with open(os.path.join(tdir, name)) as f:
            nodes, _, _ = parse(lex(f.read()), defines)
        if not name.startswith("_"):
            bodies[name] = nodes
    r = Renderer(defines, ctx)
    rendered = {name: r.render(nodes, ctx) for name, nodes in bodies.items()}
    docs = []
    for name, text in rendered.items():
        if not name.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                docs.append(doc)
    return docs, rendered, values


# ---------------------------------------------------------------- checks

FAILURES = []
PASSED = [0]


def check(cond, msg):
    if cond:
        PASSED[0] += 1
    else:
        FAILURES.append(msg)
    return cond


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def check_objects(docs, values, label):
    names = [(d["kind"], d["metadata"]["name"]) for d in docs]
    check(len(names) == len(set(names)), f"{label}: duplicate objects {names}")
    for d in docs:
        check("apiVersion" in d and "kind" in d, f"{label}: object without apiVersion/kind: {d}")
        check(
            d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "maestro",
            f"{label}: {d['kind']} {d['metadata']['name']} lacks the common labels",
        )
    # The apps' workloads: Deployments, or StatefulSets of shards (xapp/rapp.replicas > 1).
    deployments = by_kind(docs, "Deployment") + by_kind(docs, "StatefulSet")
    services = by_kind(docs, "Service")
    configmaps = {d["metadata"]["name"]: d for d in by_kind(docs, "ConfigMap")}
    pod_labels = {}
    for dep in deployments:
        name = dep["metadata"]["name"]
        spec = dep["spec"]
        labels = spec["template"]["metadata"]["labels"]
        pod_labels[name] = labels
        sel = spec["selector"]["matchLabels"]
        check(all(labels.get(k) == v for k, v in sel.items()), f"{label}: {name} selector {sel} misses pod labels {labels}")
        pod = spec["template"]["spec"]
        check(pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{label}: {name} may run as root")
        vols = {v["name"]: v for v in pod.get("volumes", [])}
        vols.update({t["metadata"]["name"]: {"persistentVolumeClaim": {}} for t in spec.get("volumeClaimTemplates", [])})
        for c in pod["containers"]:
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            check(isinstance(c.get("args"), list) and all(isinstance(a, str) for a in c["args"]), f"{label}: {name} args are not strings: {c.get('args')}")
            for probe, path in (("livenessProbe", "/ric/v1/health/alive"), ("readinessProbe", "/ric/v1/health/ready")):
                p = c.get(probe)
                if check(p is not None, f"{label}: {name}/{c['name']} has no {probe}"):
                    check(p["httpGet"]["path"] == path, f"{label}: {name} {probe} path {p['httpGet']['path']} != {path}")
                    check(p["httpGet"]["port"] in ports, f"{label}: {name} {probe} port {p['httpGet']['port']} not a container port {list(ports)}")
            res = c.get("resources", {})
            check(res.get("requests") and res.get("limits"), f"{label}: {name}/{c['name']} lacks resource requests/limits")
            for m in c.get("volumeMounts", []):
                check(m["name"] in vols, f"{label}: {name} mounts undeclared volume {m['name']}")
            for v in vols.values():
                if "configMap" in v:
                    check(v["configMap"]["name"] in configmaps, f"{label}: {name} uses missing ConfigMap {v['configMap']['name']}")
        for svc in services:
            if all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()):
                for sp in svc["spec"]["ports"]:
                    tp = sp["targetPort"]
                    check(
                        any(tp in {p["name"] for p in c.get("ports", [])} for c in pod["containers"]),
                        f"{label}: Service {svc['metadata']['name']} targetPort {tp} is no port of {name}",
                    )
    for svc in services:
        sel = svc["spec"]["selector"]
        check(
            any(all(l.get(k) == v for k, v in sel.items()) for l in pod_labels.values()),
            f"{label}: Service {svc['metadata']['name']} selects no workload's pods",
        )
        check("http" in {p["name"] for p in svc["spec"]["ports"]}, f"{label}: Service {svc['metadata']['name']} has no port named http (/metrics)")
    for sm in by_kind(docs, "ServiceMonitor"):
        sel = sm["spec"]["selector"]["matchLabels"]
        selected = [s for s in services if all(s["metadata"]["labels"].get(k) == v for k, v in sel.items())]
        check(len(selected) == len(services) and services, f"{label}: ServiceMonitor selects {len(selected)} of {len(services)} Services")
        for ep in sm["spec"]["endpoints"]:
            check(ep["path"] == "/metrics", f"{label}: ServiceMonitor path {ep['path']}")
            for s in selected:
                check(ep["port"] in {p["name"] for p in s["spec"]["ports"]}, f"{label}: ServiceMonitor port {ep['port']} not on {s['metadata']['name']}")
    return deployments, services, configmaps


def container(deployments, component):
    for d in deployments:
        if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == component:
            return d["spec"]["template"]["spec"]["containers"][0]
    return None


def arg_after(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


def args_after(args, flag):
    """Every value of a repeated flag, in order."""
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]


def env_of(c):
    return {e["name"]: e for e in c.get("env", [])}


def check_shards(docs, label, xapps, rapps, persistence, maestro_bin):
    """xapp.replicas = xapps and rapp.replicas = rapps: a StatefulSet of shards per app with
    more than one replica, each pod told its shard, behind a headless Service."""
    for component, k in (("xapp", xapps), ("rapp", rapps)):
        works = [d for d in docs if d.get("kind") in ("Deployment", "StatefulSet") and d["metadata"]["labels"].get("app.kubernetes.io/component") == component]
        if not check(len(works) == 1, f"{label}: {len(works)} {component} workloads"):
            continue
        w = works[0]
        svc = [s for s in by_kind(docs, "Service") if s["metadata"]["labels"].get("app.kubernetes.io/component") == component][0]
        c = w["spec"]["template"]["spec"]["containers"][0]
        env = env_of(c)
        if k == 1:
            check(w["kind"] == "Deployment" and w["spec"]["replicas"] == 1, f"{label}: one {component} is not one Deployment replica")
            check("MAESTRO_SHARD_INDEX" not in env and svc["spec"].get("clusterIP") != "None", f"{label}: one {component} is sharded")
            continue
        check(w["kind"] == "StatefulSet" and w["spec"]["replicas"] == k, f"{label}: {component} is not a StatefulSet of {k}: {w['kind']} {w['spec'].get('replicas')}")
        check(w["spec"].get("serviceName") == svc["metadata"]["name"] and svc["spec"].get("clusterIP") == "None", f"{label}: {component} pods lack a headless Service for their DNS names")
        check(w["spec"].get("podManagementPolicy") == "Parallel", f"{label}: {component} shards start one after another")
        index = env.get("MAESTRO_SHARD_INDEX", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        check(index == "metadata.labels['apps.kubernetes.io/pod-index']", f"{label}: {component} pods are not told their ordinal: {index}")
        if component == "xapp":
            check(env.get("MAESTRO_SHARD_COUNT", {}).get("value") == str(k), f"{label}: xApp pods are not told the shard count {k}")
            vct = [t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])]
            check(vct == (["state"] if persistence else []), f"{label}: xApp volumeClaimTemplates {vct}")
            check(not by_kind(docs, "PersistentVolumeClaim"), f"{label}: a shared PVC beside the shards' own")
            if maestro_bin:
                with tempfile.TemporaryDirectory() as tmp:
                    cm = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-xapp")][0]
                    cfg = os.path.join(tmp, "xapp.json")
                    with open(cfg, "w") as f:
                        f.write(cm["data"]["xapp.json"])
                    args = [cfg if a == "/etc/maestro/xapp.json" else a for a in c["args"]]
                    penv = {**os.environ, "MAESTRO_SHARD_INDEX": str(k - 1), "MAESTRO_SHARD_COUNT": env["MAESTRO_SHARD_COUNT"]["value"]}
                    p = subprocess.run([maestro_bin] + args + ["--print-config"], capture_output=True, text=True, env=penv)
                    if check(p.returncode == 0, f"{label}: the last xApp shard's --print-config failed: {p.stderr}"):
                        check(json.loads(p.stdout).get("shard") == {"index": k - 1, "count": k}, f"{label}: the xApp does not read its shard from the pod's environment")
        else:
            check(arg_after(c["args"], "--shard") == f"$(MAESTRO_SHARD_INDEX)/{k}", f"{label}: rApp pods do not run --shard INDEX/{k}: {arg_after(c['args'], '--shard')}")


def check_apps(docs, values, label, maestro_bin):
    deployments, services, configmaps = check_objects(docs, values, label)
    x = container(deployments, "xapp")
    r = container(deployments, "rapp")
    if not (check(x is not None, f"{label}: no xApp Deployment") and check(r is not None, f"{label}: no rApp Deployment")):
        return
    xsvc = [s for s in services if s["metadata"]["labels"].get("app.kubernetes.io/component") == "xapp"][0]
    xports = {p["name"]: p["port"] for p in xsvc["spec"]["ports"]}
    host = xsvc["metadata"]["name"]
    xwork = [d for d in deployments if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == "xapp"][0]
    if xwork["kind"] == "StatefulSet":
        # One --a1-url/--kpi-url pair per xApp shard, in ordinal order, each the pod's own name.
        pods = [f"{xwork['metadata']['name']}-{i}.{host}" for i in range(xwork["spec"]["replicas"])]
    else:
        pods = [host]
    want_a1 = [f"http://{p}:{xports['http']}" for p in pods]
    want_kpi = [f"http://{p}:{xports['grpc']}" for p in pods]
    check(args_after(r["args"], "--a1-url") == want_a1, f"{label}: rApp --a1-url {args_after(r['args'], '--a1-url')} are not {want_a1}")
    check(args_after(r["args"], "--kpi-url") == want_kpi, f"{label}: rApp --kpi-url {args_after(r['args'], '--kpi-url')} are not {want_kpi}")
    rport = {p["name"]: p["containerPort"] for p in r["ports"]}["http"]
    check(arg_after(r["args"], "--metrics-addr") == f"0.0.0.0:{rport}", f"{label}: rApp --metrics-addr does not match its port {rport}")
    check("--keep-serving" in r["args"], f"{label}: rApp would exit after its pass (no --keep-serving)")
    xcm = [c for n, c in configmaps.items() if n.endswith("-xapp")][0]
    rcm = [c for n, c in configmaps.items() if n.endswith("-rapp")][0]
    xconf = json.loads(xcm["data"]["xapp.json"])
    scen = json.loads(rcm["data"]["scenario.json"])
    with open(os.path.join(ROOT, "config", "scenario.json")) as f:
        check(scen == json.load(f), f"{label}: the rApp scenario differs from config/scenario.json (run .ci/deploy-config-sync)")
    with open(os.path.join(ROOT, "config", "xapp.json")) as f:
        ref = json.load(f)
    # Pod overrides: addresses, store, and the token file from the chart's Secret.
    pod_keys = ("http_addr", "grpc_addr", "state_dir", "security")
    for k in pod_keys:
        ref.pop(k)
        xconf_k = xconf.get(k)
        check(xconf_k is not None, f"{label}: xApp config lacks {k}")
    check({k: v for k, v in xconf.items() if k not in pod_keys} == ref, f"{label}: the xApp config differs from config/xapp.json beyond addresses, store and security (run .ci/deploy-config-sync)")
    tokens = xconf.get("security", {}).get("tokens", [])
    check(any(t.get("token_file", "").startswith("/etc/maestro-auth/") for t in tokens), f"{label}: the pod's xApp has no token from the chart's Secret")
    if not maestro_bin:
        return
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "xapp.json")
        with open(cfg, "w") as f:
            f.write(xcm["data"]["xapp.json"])
        args = [cfg if a == "/etc/maestro/xapp.json" else a for a in x["args"]]
        args = [os.path.join(tmp, "state") if a == "/var/lib/maestro/state" else a for a in args]
        p = subprocess.run([maestro_bin] + args + ["--print-config"], capture_output=True, text=True)
        if check(p.returncode == 0, f"{label}: maestro {' '.join(args)} --print-config failed: {p.stderr}"):
            eff = json.loads(p.stdout)
            xcport = {q["name"]: q["containerPort"] for q in x["ports"]}
            check(eff["http_addr"] == f"0.0.0.0:{xcport['http']}", f"{label}: xApp listens on {eff['http_addr']}, container port {xcport['http']}")
            check(eff["grpc_addr"] == f"0.0.0.0:{xcport['grpc']}", f"{label}: xApp gRPC on {eff['grpc_addr']}, container port {xcport['grpc']}")
        p = subprocess.run([maestro_bin] + r["args"] + ["--help"], capture_output=True, text=True)
        check(p.returncode == 0, f"{label}: maestro {' '.join(r['args'])} is refused: {p.stderr}")


def main():
    maestro_bin = os.environ.get("MAESTRO_BIN")
    meta, values = load_chart(CHART)
    check(meta.get("apiVersion") == "v2", "Chart.yaml: apiVersion v2 expected")
    for k in ("name", "version", "appVersion"):
        check(meta.get(k), f"Chart.yaml: {k} missing")
    check(re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", str(meta["version"])) is not None, "Chart.yaml: version is not SemVer")

    docs, rendered, vals = render_chart(CHART)
    kinds = sorted(d["kind"] for d in docs)
    print(f"default values: {len(docs)} objects: {', '.join(kinds)}")
    check(kinds == sorted(["ConfigMap", "ConfigMap", "Deployment", "Deployment", "Secret", "Service", "Service"]), f"default values: unexpected objects {kinds}")
    check_apps(docs, vals, "default values", maestro_bin)
    check("NOTES.txt" in rendered and "demo-maestro-xapp" in rendered["NOTES.txt"], "NOTES.txt does not render")

    over = {
        "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
        "xapp": {"persistence": {"enabled": True, "storageClass": "standard"}, "extraArgs": ["--seed", "7"]},
        "rapp": {"env": [{"name": "RUST_LOG", "value": "debug"}], "extraArgs": ["--regulations", "/etc/maestro/regulations"]},
        "imagePullSecrets": [{"name": "regcred"}],
        "image": {"tag": "test"},
    }
    docs2, _, vals2 = render_chart(CHART, over, release="ric")
    kinds2 = sorted(d["kind"] for d in docs2)
    print(f"with serviceMonitor+persistence: {len(docs2)} objects: {', '.join(kinds2)}")
    check(kinds2.count("ServiceMonitor") == 1 and kinds2.count("PersistentVolumeClaim") == 1, f"overrides: {kinds2}")
    check_apps(docs2, vals2, "overrides", maestro_bin)
    sm = by_kind(docs2, "ServiceMonitor")[0]
    check(sm["metadata"]["labels"].get("release") == "kube-prometheus-stack", "ServiceMonitor labels not applied")
    xdep = [d for d in by_kind(docs2, "Deployment") if d["metadata"]["name"].endswith("-xapp")][0]
    vols = {v["name"]: v for v in xdep["spec"]["template"]["spec"]["volumes"]}
    pvc = by_kind(docs2, "PersistentVolumeClaim")[0]
    check(vols["state"].get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"], "xApp state volume is not the PVC")
    check(xdep["spec"]["template"]["spec"]["containers"][0]["image"] == "maestro:test", "image tag override not applied")

    docs4, _, _ = render_chart(CHART, release="maestro")
    check(
        sorted(d["metadata"]["name"] for d in by_kind(docs4, "Service")) == ["maestro-rapp", "maestro-xapp"],
        "release 'maestro' should name its Services maestro-xapp and maestro-rapp (README's commands)",
    )

    docs3, _, _ = render_chart(CHART, {"xapp": {"enabled": False}, "rapp": {"a1Url": "http://a1sim:8085", "kpiUrl": "http://kpi:50051"}})
    r = container(by_kind(docs3, "Deployment"), "rapp")
    check(
        sorted(d["kind"] for d in docs3) == ["ConfigMap", "Deployment", "Secret", "Service"] and arg_after(r["args"], "--a1-url") == "http://a1sim:8085",
        "rApp alone with an external A1 termination does not render",
    )

    check_shards(docs, "default values", 1, 1, False, maestro_bin)
    for xapps, rapps, persistence in ((4, 1, True), (4, 2, False), (3, 3, True)):
        over = {"xapp": {"replicas": xapps, "persistence": {"enabled": persistence}}, "rapp": {"replicas": rapps}}
        label = f"xapp.replicas={xapps} rapp.replicas={rapps}"
        sdocs, _, svals = render_chart(CHART, over)
        kinds = sorted(d["kind"] for d in sdocs)
        print(f"{label}: {len(sdocs)} objects: {', '.join(kinds)}")
        check_apps(sdocs, svals, label, None)
        check_shards(sdocs, label, xapps, rapps, persistence, maestro_bin)

    helm = shutil.which("helm")
    if helm:
        for cmd in ([helm, "lint", CHART], [helm, "template", "demo", CHART]):
            p = subprocess.run(cmd, capture_output=True, text=True)
            check(p.returncode == 0, f"{' '.join(cmd)}: {p.stdout}{p.stderr}")
            if cmd[1] == "template" and p.returncode == 0:
                hdocs = [d for d in yaml.safe_load_all(p.stdout) if d]
                check_apps(hdocs, vals, "helm template", maestro_bin)
                print(f"helm template: {len(hdocs)} objects")
    else:
        print("helm: not installed here; rendered with the built-in Go-template subset only")

    if FAILURES:
        for f in FAILURES:
            print("FAIL:", f)
        print(f"helm-chart: {PASSED[0]} passed, {len(FAILURES)} failed")
        return 1
    if maestro_bin:
        print("(the rendered xApp config and both containers' arguments checked by the maestro binary)")
    print(f"helm-chart: {PASSED[0]} passed, 0 failed")
    return 0


def render_only(settings):
    """`--render KEY=VALUE...`: the manifests for these values (dotted keys, YAML values) as a
    JSON list on stdout, for tests/deploy_files.rs."""
    over = {}
    for kv in settings:
        key, _, value = kv.partition("=")
        cur = over
        *parents, leaf = key.split(".")
        for k in parents:
            cur = cur.setdefault(k, {})
        cur[leaf] = yaml.safe_load(value)
    docs, _, _ = render_chart(os.path.join(ROOT, "deploy", "helm", "maestro"), over)
    json.dump(docs, sys.stdout)
    return 0


if __name__ == "__main__":
    try:
        if len(sys.argv) > 1 and sys.argv[1] == "--render":
            sys.exit(render_only(sys.argv[2:]))
        sys.exit(main())
    except TemplateError as e:
        print("FAIL: template:", e)
        sys.exit(1)
