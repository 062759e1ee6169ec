#!/usr/bin/python3
"""Generate lua/hwcloud/services/gen/<field>.lua from the official SDKs.

Reads the newer Python SDK's client, model and region modules of every
service version, with the enums its models lack from the Go SDK's
model/*.go (a version only the Go SDK has: its <svc>_meta.go, model/*.go and
region/region.go), and writes one pure-data Lua table per service API
version. Only facts are taken: names, methods, paths, field locations,
types, required flags, enums and region hosts.

  tools/gen_services.py --go DIR --python DIR          write the files
  tools/gen_services.py --go DIR --python DIR --check  diff against them

DIR is a checkout or a bare git mirror (files are then read at HEAD).
Standard library only.
"""

import argparse
import ast
import difflib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "lua", "hwcloud", "services", "gen")
CHECKER = os.path.join(ROOT, "tools", "check_services.lua")

GO_SDK = "huaweicloud-sdk-go-v3"
PY_SDK = "huaweicloud-sdk-python-v3"

class GenError(Exception):
    pass


WARNINGS = []
PY_DOCS = {}   # (file, class) -> wire name -> the property's doc (read once)


def warn(msg):
    WARNINGS.append(msg)


# ---------------------------------------------------------------- sources

class Source:
    """Files of an SDK: a plain checkout, or a bare git mirror read at HEAD."""

    def __init__(self, path, probe):
        self.path = path
        self.git = None
        if not os.path.isdir(path):
            raise GenError("%s: not a directory" % path)
        if not os.path.exists(os.path.join(path, probe)) and self._is_git():
            self.git = True
        self.commit = self._commit()
        self._listing = None

    def _run(self, *args):
        res = subprocess.run(["git", "-C", self.path] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if res.returncode != 0:
            raise GenError("git %s in %s: %s" % (" ".join(args), self.path,
                                                 res.stderr.decode(errors="replace").strip()))
        return res.stdout

    def _is_git(self):
        res = subprocess.run(["git", "-C", self.path, "rev-parse"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return res.returncode == 0

    def _commit(self):
        if self.git or self._is_git():
            return self._run("rev-parse", "HEAD").decode().strip()
        return "unknown"

    def read(self, rel):
        if self.git:
            return self._run("show", "HEAD:" + rel).decode("utf-8")
        with open(os.path.join(self.path, rel), encoding="utf-8") as fh:
            return fh.read()

    def exists(self, rel):
        return rel in self.list(os.path.dirname(rel))

    def list(self, rel_dir):
        """All file paths (recursive) under rel_dir, sorted."""
        rel_dir = rel_dir.rstrip("/")
        if self.git:
            out = self._run("ls-tree", "-r", "--name-only", "HEAD", rel_dir + "/")
            return sorted(out.decode("utf-8").splitlines())
        base = os.path.join(self.path, rel_dir)
        found = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                full = os.path.join(dirpath, name)
                found.append(os.path.relpath(full, self.path).replace(os.sep, "/"))
        return sorted(found)


# ---------------------------------------------------------------- helpers

def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def go_string(lit):
    """The value of a Go interpreted string literal."""
    try:
        return json.loads(lit)
    except ValueError as exc:
        raise GenError("cannot read Go string %s: %s" % (lit, exc))


PRIMITIVES = {
    "string": "string", "int": "integer", "int32": "integer", "int64": "integer",
    "float32": "number", "float64": "number", "bool": "boolean",
    # A time is a string on the wire; a form's text parts are strings, its
    # file parts (FilePart) files.
    "sdktime.SdkTime": "string", "def.FilePart": "file", "def.MultiPart": "string",
    "io.ReadCloser": "string",
    # money fields (shopspring/decimal): numbers on the wire
    "decimal.Decimal": "number",
}


# ---------------------------------------------------------------- Go

GO_FIELD = re.compile(r'^\s*([A-Za-z_]\w*)\s+(\S+)\s+`([^`]*)`')
GO_JSON = re.compile(r'json:"([^"]*)"')


class GoPackage:
    def __init__(self, src, path):
        self.src = src
        self.path = path
        self.structs = {}    # name -> list of (go name, type, json name, omitempty)
        self.enums = {}      # name -> (kind, [values])
        self.docs = {}       # (struct, json name) -> the field's comment
        self._load_models()

    def _load_models(self):
        files = [f for f in self.src.list(self.path + "/model") if f.endswith(".go")]
        if not files:
            raise GenError("%s/model: no Go files" % self.path)
        for f in files:
            text = self.src.read(f)
            for m in re.finditer(r"^type (\w+) struct \{\n(.*?)^\}", text, re.S | re.M):
                name, body = m.group(1), m.group(2)
                fields = []
                value_kind = None
                comment = []
                for line in body.splitlines():
                    cm = re.match(r"^\s*//\s?(.*)$", line)
                    if cm:
                        comment.append(cm.group(1))
                        continue
                    vm = re.match(r"^\s*value\s+(string|int32|int64)\s*$", line)
                    if vm:
                        value_kind = vm.group(1)
                        continue
                    fm = GO_FIELD.match(line)
                    doc, comment = " ".join(comment), []
                    if not fm:
                        continue
                    jm = GO_JSON.search(fm.group(3))
                    if not jm:
                        continue
                    parts = jm.group(1).split(",")
                    if doc:
                        self.docs[(name, parts[0])] = doc
                    fields.append((fm.group(1), fm.group(2), parts[0], "omitempty" in parts[1:]))
                if value_kind:
                    self.enums[name] = (value_kind, None)
                else:
                    self.structs[name] = fields
            for m in re.finditer(r"^func Get(\w+)Enum\(\) \w+ \{\n(.*?)^\}", text, re.S | re.M):
                name = m.group(1)
                if name not in self.enums:
                    continue
                kind = self.enums[name][0]
                vals = []
                for vm in re.finditer(r'value:\s*("(?:[^"\\]|\\.)*"|-?\d+)', m.group(2)):
                    lit = vm.group(1)
                    if kind == "string":
                        vals.append(go_string(lit))
                    else:
                        vals.append(int(lit))
                self.enums[name] = (kind, vals)
        for name, (kind, vals) in self.enums.items():
            if vals is None:
                raise GenError("%s: enum %s has no Get%sEnum()" % (self.path, name, name))


class Builder:
    """Collects the models reachable from the operations of one service."""

    def __init__(self):
        self.models = {}
        self.pending = []

    def ref(self, name):
        if name not in self.models:
            self.models[name] = None
            self.pending.append(name)
        return {"ref": name}


def go_schema(pkg, builder, typ, where):
    t = typ.lstrip("*")
    if t.startswith("[]"):
        return {"type": "array", "items": go_schema(pkg, builder, t[2:], where)}
    if t.startswith("map[string]"):
        return {"type": "map", "values": go_schema(pkg, builder, t[len("map[string]"):], where)}
    if t == "interface{}":
        return {"type": "any"}
    if t in PRIMITIVES:
        return {"type": PRIMITIVES[t]}
    if t in pkg.enums:
        kind, vals = pkg.enums[t]
        return {"type": "string" if kind == "string" else "integer", "enum": list(vals)}
    if t in pkg.structs:
        return builder.ref(t)
    raise GenError("%s: unknown Go type %s" % (where, typ))


def go_object(pkg, builder, name, skip=()):
    fields = {}
    for gname, typ, jname, omit in pkg.structs[name]:
        if jname == "-" or gname in skip:
            continue
        node = dict(go_schema(pkg, builder, typ, "%s.%s" % (name, gname)))
        if not omit:
            node["required"] = True
        fields[jname] = node
    if not fields:
        return {"type": "object"}
    return {"type": "object", "fields": fields}


def parse_go_meta(src, path):
    meta = [f for f in src.list(path) if re.fullmatch(re.escape(path) + r"/[^/]*_meta\.go", f)]
    if len(meta) != 1:
        raise GenError("%s: expected one *_meta.go, found %s" % (path, meta))
    text = src.read(meta[0])
    ops = []
    chunks = re.split(r"^func GenReqDefFor(\w+)\(\) \*def\.HttpRequestDef \{", text, flags=re.M)
    for i in range(1, len(chunks), 2):
        name, body = chunks[i], chunks[i + 1]
        op = {"name": name, "request_fields": [], "response_fields": []}
        m = re.search(r"WithMethod\(http\.Method(\w+)\)", body)
        op["method"] = m.group(1).upper() if m else None
        m = re.search(r'WithPath\(("(?:[^"\\]|\\.)*")\)', body)
        op["path"] = go_string(m.group(1)) if m else None
        m = re.search(r"WithResponse\(new\(model\.(\w+)\)\)", body)
        op["response"] = m.group(1) if m else None
        m = re.search(r'WithContentType\(("(?:[^"\\]|\\.)*")\)', body)
        op["content_type"] = go_string(m.group(1)) if m else None
        if not (op["method"] and op["path"] and op["response"]):
            raise GenError("%s: %s lacks a method, path or response" % (meta[0], name))
        for fm in re.finditer(r"\.With(Request|Response)Field\(def\.NewFieldDef\(\)(.*?)\)\)\s*$",
                              body, re.S | re.M):
            fb = fm.group(2)
            gname = re.search(r'WithName\("(\w+)"\)', fb)
            tag = re.search(r'WithJsonTag\(("(?:[^"\\]|\\.)*")\)', fb)
            loc = re.search(r"WithLocationType\(def\.(\w+)", fb)
            if not (gname and loc):
                raise GenError("%s: %s has a field without name or location" % (meta[0], name))
            entry = (gname.group(1), go_string(tag.group(1)) if tag else None, loc.group(1))
            key = "request_fields" if fm.group(1) == "Request" else "response_fields"
            op[key].append(entry)
        ops.append(op)
    return ops


def go_regions(src, path):
    text = src.read(path + "/region/region.go")
    regions = {}
    for m in re.finditer(r"region\.NewRegion\(((?:\s*\"(?:[^\"\\]|\\.)*\"\s*,?)+)\s*\)", text):
        lits = [go_string(x) for x in re.findall(r'"(?:[^"\\]|\\.)*"', m.group(1))]
        if len(lits) < 2:
            raise GenError("%s: region without endpoint" % path)
        regions[lits[0]] = lits[1:]
    if not regions:
        raise GenError("%s/region/region.go: no regions" % path)
    return regions


def build_request(op_name, loc_fields, body, builder, models_fields):
    """loc_fields: wire name -> node (with location); body: (node, required) or None.

    models_fields(name) gives the fields of a model, or None when free-form.
    """
    fields = dict(loc_fields)
    body_model = None
    if body is not None:
        node, required = body
        if "ref" in node:
            body_model = node["ref"]
            mfields = models_fields(body_model)
            if mfields and not (set(mfields) & set(loc_fields)):
                for k, v in mfields.items():
                    fields[k] = dict(v)
                node = None
        if node is not None:
            node = dict(node)
            node["location"] = "whole_body"
            if required:
                node["required"] = True
            fields["body"] = node
    req = {"type": "object"}
    if fields:
        req["fields"] = fields
    return req, body_model


# ---------------------------------------------------------------- paging

# An offset whose SDK documentation calls it a page number (页码) counts
# pages, not rows: the pager must add 1, not the item count.
PAGE_NUMBER_DOC = re.compile(r"页码|page number", re.I)
PAGE_NAMES = ("page", "page_no", "pageno", "page_num", "pagenum", "current_page", "cur_page",
              "curpage", "page_index", "pageindex", "currentpage")
SIZE_NAMES = ("limit", "page_size", "pagesize", "per_page", "size", "maxitems", "max_items",
              "page_limit", "rows", "top")


def paging_of(opname, request, doc):
    """The paging style of a list operation, from its request fields:
    {style, location, position[, size]} or None. doc(wire, location) is the
    SDK's documentation of a field (only read to tell rows from pages)."""
    if not (re.match(r"(list|search|query)", opname) or "_list_" in opname):
        return None
    fields = request.get("fields", {})
    for location in ("query", "body"):
        cand = {w.lower(): w for w, f in fields.items()
                if f.get("location") == (location if location == "query" else None)}
        size = next((cand[n] for n in SIZE_NAMES if n in cand), None)
        style = position = None
        if "marker" in cand:
            style, position = "marker", cand["marker"]
        elif "offset" in cand:
            position = cand["offset"]
            style = "offset_page" if PAGE_NUMBER_DOC.search(doc(position, location) or "") else "offset"
        elif any(n in cand for n in PAGE_NAMES):
            position = next(cand[n] for n in PAGE_NAMES if n in cand)
            style = "page"
        elif "start_number" in cand:
            style, position = "start_number", cand["start_number"]
        elif "start" in cand:
            style, position = "start", cand["start"]
        elif "from" in cand:
            style, position = "from", cand["from"]
        if style:
            out = {"style": style, "location": location, "position": position}
            if size:
                out["size"] = size
            if style == "marker" and "offset" in cand:
                # an offset beside the marker, and what it counts
                unit = "page" if PAGE_NUMBER_DOC.search(doc(cand["offset"], location) or "") else "row"
                out["offset"] = cand["offset"] + ":" + unit
            return out
    return None


def gen_go(src, field, service, version, path):
    pkg = GoPackage(src, path)
    ops_meta = parse_go_meta(src, path)
    builder = Builder()
    response_models = {}   # response model name -> Go names of header fields
    operations = {}
    for op in ops_meta:
        name = op["name"]
        req_struct = name + "Request"
        if req_struct not in pkg.structs:
            raise GenError("%s: no model %s" % (path, req_struct))
        by_go = {f[0]: f for f in pkg.structs[req_struct]}
        loc_fields = {}
        body = None
        for gname, tag, loc in op["request_fields"]:
            if gname not in by_go:
                # the SDK itself can never send such a field
                warn("%s: %s names field %s, which %s lacks: skipped" % (path, name, gname, req_struct))
                continue
            _g, typ, jname, omit = by_go[gname]
            node = dict(go_schema(pkg, builder, typ, "%s.%s" % (req_struct, gname)))
            if loc == "Body":
                body = (node, not omit)
                continue
            if loc not in ("Path", "Query", "Header"):
                raise GenError("%s: %s.%s has location %s" % (path, name, gname, loc))
            wire = tag if tag is not None else jname
            if loc == "Header" and wire.lower() == "content-type":
                continue  # the operation's content type, not a field
            if loc == "Path" or not omit:
                node["required"] = True
            node["location"] = loc.lower()
            loc_fields[wire] = node

        def fields_of(mname):
            return go_object(pkg, Builder(), mname).get("fields") if mname in pkg.structs else None

        request, body_model = build_request(name, loc_fields, body, builder, fields_of)
        entry = {"sdk_operation": name, "method": op["method"], "path": op["path"], "request": request}

        def doc(wire, location, req_struct=req_struct, body_model=body_model):
            return pkg.docs.get((req_struct if location == "query" else body_model, wire))
        paging = paging_of(snake(name), request, doc)
        if paging:
            entry["paging"] = paging
        if op["content_type"]:
            entry["content_type"] = op["content_type"]
        if body_model:
            entry["body_model"] = body_model

        resp = op["response"]
        if resp not in pkg.structs:
            raise GenError("%s: no model %s" % (path, resp))
        headers = {}
        header_go = set()
        for gname, tag, loc in op["response_fields"]:
            if loc == "Header":
                header_go.add(gname)
                headers[tag.lower()] = tag
        rest = [f for f in pkg.structs[resp] if f[0] not in header_go and f[0] != "HttpStatusCode"]
        raw = [f for f in pkg.structs[resp] if f[0] == "Body" and f[2] == "-"]
        if len(rest) == 1 and rest[0][0] == "Body" and rest[0][2] == "body":
            entry["response"] = go_schema(pkg, builder, rest[0][1], resp + ".Body")
        elif raw and len(rest) == 1:
            # A stream (a log, a file): the raw bytes of the body.
            entry["response"] = {"type": "string"}
            entry["answer"] = "bytes"
        else:
            response_models[resp] = header_go
            entry["response"] = builder.ref(resp)
        if headers:
            entry["response_headers"] = headers
        operations[snake(name)] = entry

    while builder.pending:
        mname = builder.pending.pop()
        builder.models[mname] = go_object(pkg, builder, mname,
                                          skip=response_models.get(mname, set()) | {"HttpStatusCode"})
    return {
        "service": service, "api_version": version,
        "source": {"sdk": GO_SDK, "commit": src.commit, "path": path},
        "regions": go_regions(src, path),
        "models": builder.models,
        "operations": operations,
    }


# ---------------------------------------------------------------- Python

PY_PRIMITIVES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
                 "decimal.Decimal": "number",
                 "object": "any", "date": "string", "datetime": "string", "file": "file"}


class PyPackage:
    def __init__(self, src, path):
        self.classes = {}   # name -> (openapi_types, attribute_map, required attrs)
        self.enums = {}     # name -> allowed string values (models with no attributes)
        self.docs = {}      # name -> wire name -> doc
        self.streams = {}   # name -> True for an answer that is a byte stream
        for f in src.list(path + "/model"):
            if not f.endswith(".py") or f.endswith("__init__.py"):
                continue
            tree = ast.parse(src.read(f), filename=f)
            for cls in tree.body:
                if isinstance(cls, ast.ClassDef):
                    self.classes[cls.name] = self._read_class(cls, f)
                    self.streams[cls.name] = any(isinstance(b, ast.Name) and b.id == "SdkStreamResponse"
                                                 for b in cls.bases)
                    self.docs[cls.name] = PY_DOCS.pop((f, cls.name), {})
                    values = self._enum_values(cls)
                    if values and not self.classes[cls.name][0]:
                        self.enums[cls.name] = values

    @staticmethod
    def _enum_values(cls):
        # an enum model: upper-case class constants holding its values
        values = []
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id.isupper() and \
                    isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                values.append(stmt.value.value)
        return values

    @staticmethod
    def _read_class(cls, f):
        types, amap, required, docs = None, None, set(), {}
        for stmt in cls.body:
            if isinstance(stmt, ast.FunctionDef) and any(
                    isinstance(d, ast.Name) and d.id == "property" for d in stmt.decorator_list):
                docs[stmt.name] = ast.get_docstring(stmt) or ""
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name):
                if stmt.targets[0].id == "openapi_types":
                    types = ast.literal_eval(stmt.value)
                elif stmt.targets[0].id == "attribute_map":
                    amap = ast.literal_eval(stmt.value)
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
                # Required attributes are assigned unconditionally, at the
                # top level of __init__ (optional ones under `if x is not None`).
                for s in stmt.body:
                    if isinstance(s, ast.Assign) and len(s.targets) == 1:
                        t = s.targets[0]
                        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and \
                                t.value.id == "self" and isinstance(s.value, ast.Name) and \
                                s.value.id == t.attr:
                            required.add(t.attr)
        if types is None or amap is None:
            raise GenError("%s: class %s lacks openapi_types or attribute_map" % (f, cls.name))
        PY_DOCS[(f, cls.name)] = {amap.get(a, a): d for a, d in docs.items()}
        return types, amap, required


def py_schema(pkg, builder, typ, where):
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        return {"type": "array", "items": py_schema(pkg, builder, m.group(1), where)}
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        return {"type": "map", "values": py_schema(pkg, builder, m.group(1), where)}
    if typ in PY_PRIMITIVES:
        return {"type": PY_PRIMITIVES[typ]}
    if typ in pkg.enums:
        return {"type": "string", "enum": list(pkg.enums[typ])}
    if typ in pkg.classes:
        return builder.ref(typ)
    raise GenError("%s: unknown Python type %s" % (where, typ))


def py_object(pkg, builder, name, skip=()):
    types, amap, required = pkg.classes[name]
    fields = {}
    for attr, typ in types.items():
        if attr in skip:
            continue
        node = dict(py_schema(pkg, builder, typ, "%s.%s" % (name, attr)))
        if attr in required:
            node["required"] = True
        fields[amap[attr]] = node
    if not fields:
        return {"type": "object"}
    return {"type": "object", "fields": fields}


def _str_const(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def parse_py_client(text, where):
    tree = ast.parse(text, filename=where)
    ops = []
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        for fn in cls.body:
            if not (isinstance(fn, ast.FunctionDef) and fn.name.startswith("_")
                    and fn.name.endswith("_http_info")):
                continue
            op = {"method_name": fn.name[1:-len("_http_info")], "path": [], "query": [],
                  "header": [], "body": False, "content_type": None, "response_headers": []}
            for node in ast.walk(fn):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    t = node.targets[0]
                    if isinstance(t, ast.Name) and t.id == "http_info" and \
                            isinstance(node.value, ast.Dict):
                        for k, v in zip(node.value.keys, node.value.values):
                            if _str_const(k) in ("method", "resource_path", "response_type"):
                                op[_str_const(k)] = _str_const(v)
                    elif isinstance(t, ast.Name) and t.id == "response_headers" and \
                            isinstance(node.value, ast.List):
                        op["response_headers"] = [_str_const(e) for e in node.value.elts]
                    elif isinstance(t, ast.Name) and t.id == "body" and \
                            isinstance(node.value, ast.Subscript):
                        op["body"] = True
                    elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and \
                            t.value.id in ("path_params", "header_params"):
                        key = _str_const(t.slice)
                        attr = _str_const(getattr(node.value, "slice", None))
                        if key is not None and attr is not None:
                            op["path" if t.value.id == "path_params" else "header"].append((key, attr))
                        elif key == "Content-Type" and isinstance(node.value, ast.Call):
                            args = node.value.args
                            if args and isinstance(args[0], ast.List) and args[0].elts:
                                op["content_type"] = _str_const(args[0].elts[0])
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                        node.func.attr == "append" and isinstance(node.func.value, ast.Name) and \
                        node.func.value.id == "query_params" and node.args and \
                        isinstance(node.args[0], ast.Tuple):
                    key = _str_const(node.args[0].elts[0])
                    attr = _str_const(getattr(node.args[0].elts[1], "slice", None))
                    op["query"].append((key, attr))
            if not (op.get("method") and op.get("resource_path") and op.get("response_type")):
                raise GenError("%s: %s lacks a method, path or response type" % (where, fn.name))
            ops.append(op)
    return ops


def py_regions(src, path):
    files = [f for f in src.list(path + "/region") if f.endswith("_region.py")]
    if len(files) != 1:
        raise GenError("%s/region: expected one *_region.py, found %s" % (path, files))
    tree = ast.parse(src.read(files[0]))
    regions = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "Region":
            lits = [_str_const(a) for a in node.args]
            if len(lits) >= 2 and None not in lits:
                regions[lits[0]] = lits[1:]
    if not regions:
        raise GenError("%s: no regions" % files[0])
    return regions


def gen_python(src, field, service, version, path):
    pkg = PyPackage(src, path)
    clients = [f for f in src.list(path) if re.fullmatch(re.escape(path) + r"/[^/]*_client\.py", f)
               and not f.endswith("_async_client.py")]
    if len(clients) != 1:
        raise GenError("%s: expected one client module, found %s" % (path, clients))
    builder = Builder()
    response_models = {}
    operations = {}
    for op in parse_py_client(src.read(clients[0]), clients[0]):
        resp = op["response_type"]
        if not resp.endswith("Response"):
            raise GenError("%s: odd response type %s" % (path, resp))
        name = resp[:-len("Response")]
        req_cls = name + "Request"
        if req_cls not in pkg.classes or resp not in pkg.classes:
            raise GenError("%s: no model %s or %s" % (path, req_cls, resp))
        rtypes, _ramap, rreq = pkg.classes[req_cls]
        loc_fields = {}
        for loc in ("path", "query", "header"):
            for wire, attr in op[loc]:
                if attr not in rtypes:
                    warn("%s: %s names field %s, which %s lacks: skipped" % (path, name, attr, req_cls))
                    continue
                if loc == "header" and wire.lower() == "content-type":
                    continue  # the operation's content type, not a field
                node = dict(py_schema(pkg, builder, rtypes[attr], "%s.%s" % (req_cls, attr)))
                if loc == "path" or attr in rreq:
                    node["required"] = True
                node["location"] = loc
                loc_fields[wire] = node
        body = None
        if op["body"]:
            body = (py_schema(pkg, builder, rtypes["body"], req_cls + ".body"), "body" in rreq)

        def fields_of(mname):
            return py_object(pkg, Builder(), mname).get("fields") if mname in pkg.classes else None

        request, body_model = build_request(name, loc_fields, body, builder, fields_of)
        entry = {"sdk_operation": name, "method": op["method"], "path": op["resource_path"],
                 "request": request}

        def doc(wire, location, req_cls=req_cls, body_model=body_model):
            if location == "query":
                return pkg.docs.get(req_cls, {}).get(wire)
            return pkg.docs.get(body_model, {}).get(wire)
        paging = paging_of(snake(name), request, doc)
        if paging:
            entry["paging"] = paging
        if op["content_type"]:
            entry["content_type"] = op["content_type"]
        if body_model:
            entry["body_model"] = body_model
        stypes, samap, _sreq = pkg.classes[resp]
        wire_to_attr = {w: a for a, w in samap.items()}
        header_attrs = set()
        headers = {}
        for h in op["response_headers"]:
            attr = wire_to_attr.get(h)
            if attr is None:
                raise GenError("%s: %s has no attribute for header %s" % (path, resp, h))
            header_attrs.add(attr)
            headers[h.lower()] = h
        rest = [a for a in stypes if a not in header_attrs]
        if pkg.streams.get(resp):
            # an SdkStreamResponse: the raw bytes of the body
            entry["response"] = {"type": "string"}
            entry["answer"] = "bytes"
        elif rest == ["body"] and samap["body"] == "body":
            entry["response"] = py_schema(pkg, builder, stypes["body"], resp + ".body")
        else:
            response_models[resp] = header_attrs
            entry["response"] = builder.ref(resp)
        if headers:
            entry["response_headers"] = headers
        operations[snake(name)] = entry
        if snake(name) != op["method_name"]:
            raise GenError("%s: method %s is not the snake_case of %s" % (path, op["method_name"], name))
    while builder.pending:
        mname = builder.pending.pop()
        builder.models[mname] = py_object(pkg, builder, mname,
                                          skip=response_models.get(mname, set()))
    return {
        "service": service, "api_version": version,
        "source": {"sdk": PY_SDK, "commit": src.commit, "path": path},
        "regions": py_regions(src, path),
        "models": builder.models,
        "operations": operations,
    }


# ---------------------------------------------------------------- Lua output

LUA_KEYWORDS = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
    "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}
NODE_ORDER = ["ref", "type", "required", "location", "enum", "items", "values", "fields"]
# sdk_operation: the SDK's own name (CamelCase, acronyms kept: AddClientIDToOIDCProviderV5),
# which its reference pages use; the key is the snake_case client method name
OP_ORDER = ["sdk_operation", "method", "path", "content_type", "body_model", "paging", "request", "response",
            "answer", "response_headers"]


def lua_str(s):
    out = ['"']
    for ch in s.encode("utf-8"):
        c = chr(ch)
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ch < 0x20 or ch >= 0x7f:
            out.append("\\%03d" % ch)
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def lua_key(k):
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) and k not in LUA_KEYWORDS:
        return k
    return "[" + lua_str(k) + "]"


def lua_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return lua_str(v)
    raise GenError("cannot write %r" % (v,))


def lua_list(vals):
    return "{ " + ", ".join(lua_value(v) for v in vals) + " }"


def lua_node(node, indent):
    """A schema node: inline, except that `fields` go one per line."""
    unknown = set(node) - set(NODE_ORDER)
    if unknown:
        raise GenError("schema node with keys %s" % sorted(unknown))
    parts = []
    tail = None
    for k in NODE_ORDER:
        if k not in node:
            continue
        v = node[k]
        if k in ("items", "values"):
            parts.append("%s = %s" % (k, lua_node(v, indent)))
        elif k == "enum":
            parts.append("enum = " + lua_list(v))
        elif k == "fields":
            tail = v
        else:
            parts.append("%s = %s" % (k, lua_value(v)))
    if tail is None:
        return "{ " + ", ".join(parts) + " }"
    pad = "  " * (indent + 1)
    lines = ["{ " + ", ".join(parts + ["fields = {"])]
    for fk in sorted(tail):
        lines.append("%s%s = %s," % (pad, lua_key(fk), lua_node(tail[fk], indent + 1)))
    lines.append("  " * indent + "} }")
    return "\n".join(lines)


def _refs(node, out):
    """The model names a schema node refers to, directly or below."""
    if not isinstance(node, dict):
        return
    if "ref" in node:
        out.add(node["ref"])
    for k in ("items", "values"):
        if k in node:
            _refs(node[k], out)
    for sub in node.get("fields", {}).values():
        _refs(sub, out)


def split_models(desc):
    """The models a request can reach, and the rest (only answers use them).
    The rest go in a companion file that loads on first need, so loading a
    service reads little more than what a request needs."""
    models = desc["models"]
    want, todo = set(), set()
    for op in desc["operations"].values():
        _refs(op["request"], todo)
    while todo:
        m = todo.pop()
        if m in want or m not in models:
            continue
        want.add(m)
        _refs(models[m], todo)
    main = {m: models[m] for m in models if m in want}
    rest = {m: models[m] for m in models if m not in want}
    return main, rest


def header(desc):
    src = desc["source"]
    out = [
        "-- Generated by tools/gen_services.py from huaweicloud/%s" % src["sdk"],
        "-- at commit %s (%s)." % (src["commit"], src["path"]),
    ]
    newer = desc.get("newer")
    if newer:
        out += [
            "-- Regions and the operation set from huaweicloud/%s" % newer["sdk"],
            "-- at commit %s (%s)." % (newer["commit"], newer["path"]),
        ]
    enums = desc.get("enums")
    if enums:
        out += [
            "-- The enums it lacks from huaweicloud/%s" % enums["sdk"],
            "-- at commit %s (%s)." % (enums["commit"], enums["path"]),
        ]
    return out + [
        "-- Do not edit: run `make services` (see tools/gen_services.py). Facts only: names, methods,",
        "-- paths, field locations, types, required flags, enums and region hosts.",
        # Long paths and enum lists stay on one line each.
        "-- luacheck: no max line length",
    ]


def lua_models_file(field, desc, models):
    out = header(desc) + [
        "-- The models only answers use, for gen/%s.lua: loaded on first need." % field,
        "return {",
        "  models = {",
    ]
    for m in sorted(models):
        out.append("    %s = %s," % (lua_key(m), lua_node(models[m], 2)))
    out.append("  },")
    out.append("}")
    return "\n".join(out) + "\n"


def lua_file(desc, models=None, companion=None):
    src = desc["source"]
    if models is None:
        models = desc["models"]
    out = header(desc) + [
        "return {",
        "  service = %s," % lua_str(desc["service"]),
        "  api_version = %s," % lua_str(desc["api_version"]),
        "  source = { sdk = %s, commit = %s, path = %s }," % (
            lua_str(src["sdk"]), lua_str(src["commit"]), lua_str(src["path"])),
    ]
    newer = desc.get("newer")
    if desc.get("credentials") == "global":
        out.append("  global = true,")
    if desc.get("derived_auth"):
        out.append("  derived_auth_service_name = %s," % lua_str(desc["derived_auth"]))
    if newer:
        out.append("  newer = { sdk = %s, commit = %s, path = %s }," % (
            lua_str(newer["sdk"]), lua_str(newer["commit"]), lua_str(newer["path"])))
    enums = desc.get("enums")
    if enums:
        out.append("  enums = { sdk = %s, commit = %s, path = %s }," % (
            lua_str(enums["sdk"]), lua_str(enums["commit"]), lua_str(enums["path"])))
    if companion:
        out.append("  response_models = %s," % lua_str(companion))
    out += [
        "  regions = {",
    ]
    for r in sorted(desc["regions"]):
        out.append("    %s = %s," % (lua_key(r), lua_list(desc["regions"][r])))
    out.append("  },")
    out.append("  models = {")
    for m in sorted(models):
        out.append("    %s = %s," % (lua_key(m), lua_node(models[m], 2)))
    out.append("  },")
    out.append("  operations = {")
    for name in sorted(desc["operations"]):
        op = desc["operations"][name]
        unknown = set(op) - set(OP_ORDER)
        if unknown:
            raise GenError("operation %s with keys %s" % (name, sorted(unknown)))
        out.append("    %s = {" % lua_key(name))
        for k in OP_ORDER:
            if k not in op:
                continue
            v = op[k]
            if k in ("request", "response"):
                out.append("      %s = %s," % (k, lua_node(v, 3)))
            elif k == "paging":
                items = ", ".join("%s = %s" % (lua_key(h), lua_str(v[h])) for h in sorted(v))
                out.append("      paging = { %s }," % items)
            elif k == "response_headers":
                items = ", ".join("%s = %s" % (lua_key(h), lua_str(v[h])) for h in sorted(v))
                out.append("      response_headers = { %s }," % items)
            else:
                out.append("      %s = %s," % (k, lua_value(v)))
        out.append("    },")
    out.append("  },")
    out.append("}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- versions

MANIFEST = os.path.join(ROOT, "lua", "hwcloud", "services", "manifest.lua")


def read_manifest():
    """The versions the manifest excludes (service/version -> reason): the
    manifest is Lua, read by lua5.4 itself."""
    script = ("local m = dofile(%s) " % lua_str(MANIFEST)) + (r'for k, v in pairs(m.excluded or {}) do '
              r'io.write(k, "\t", v, "\n") end')
    res = subprocess.run(["lua5.4", "-e", script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    if res.returncode != 0:
        raise GenError("%s: %s" % (MANIFEST, res.stderr.decode(errors="replace").strip()))
    out = {}
    for line in res.stdout.decode("utf-8").splitlines():
        k, v = line.split("\t", 1)
        out[k] = v
    return out


def go_versions(go):
    """(service, version) -> path of every Go service version with a meta file."""
    found = {}
    for f in go.list("services"):
        m = re.fullmatch(r"services/([a-z0-9]+)/(v\d+)/[^/]*_meta\.go", f)
        if m:
            found[(m.group(1), m.group(2))] = "services/%s/%s" % (m.group(1), m.group(2))
    return found


def py_versions(py):
    found = {}
    for d in sorted(os.listdir(py.path)) if not py.git else []:
        m = re.fullmatch(r"huaweicloud-sdk-([a-z0-9]+)", d)
        if not m or m.group(1) in ("core", "all"):
            continue
        svc = m.group(1)
        base = os.path.join(py.path, d, "huaweicloudsdk" + svc)
        if not os.path.isdir(base):
            continue
        for ver in sorted(os.listdir(base)):
            if re.fullmatch(r"v\d+", ver) and os.path.isdir(os.path.join(base, ver)):
                found[(svc, ver)] = "%s/huaweicloudsdk%s/%s" % (d, svc, ver)
    if py.git:
        for f in py.list(""):
            m = re.fullmatch(r"huaweicloud-sdk-([a-z0-9]+)/huaweicloudsdk\1/(v\d+)/[^/]*_client\.py", f)
            if m and m.group(1) not in ("core", "all"):
                found[(m.group(1), m.group(2))] = os.path.dirname(f)
    return found


def enrich(pnode, gnode):
    """Go's enum on a Python schema node that has none, where both nodes
    say the same type (the Python SDK lists the values of few enums)."""
    if not isinstance(pnode, dict) or not isinstance(gnode, dict):
        return
    if "ref" in pnode or "ref" in gnode or pnode.get("type") != gnode.get("type"):
        return
    if "enum" in gnode and "enum" not in pnode:
        pnode["enum"] = list(gnode["enum"])
    for k in ("items", "values"):
        if k in pnode and k in gnode:
            enrich(pnode[k], gnode[k])
    pf, gf = pnode.get("fields") or {}, gnode.get("fields") or {}
    for name, sub in pf.items():
        if name in gf:
            enrich(sub, gf[name])


def python_with_go_enums(go_desc, py_desc):
    """A version both SDKs have: the newer Python SDK's facts (operations,
    fields, types, locations, models), with the enums of the Go SDK's
    models and request fields of the same names where Python has none.
    Returns (desc, added, dropped): the operations Python has that Go has
    not, and the reverse."""
    gops, pops = go_desc["operations"], py_desc["operations"]
    for name, model in py_desc["models"].items():
        enrich(model, go_desc["models"].get(name))
    for name, op in pops.items():
        if name in gops:
            enrich(op["request"], gops[name]["request"])
    desc = dict(py_desc)
    # A form body (urlencoded or multipart): Go describes its parts as they
    # go on the wire (strings, files), Python as the JSON models it would be;
    # the Python SDK sends what it is given, so Go's parts are the facts
    form = re.compile(r"(multipart/|application/x-www-form-urlencoded)", re.I)
    ops, models = dict(pops), dict(py_desc["models"])
    for name in sorted(set(pops) & set(gops)):
        if form.match(gops[name].get("content_type") or ""):
            ops[name] = gops[name]
            todo = set()
            _refs(gops[name]["request"], todo)
            while todo:
                m = todo.pop()
                if m not in models and m in go_desc["models"]:
                    models[m] = go_desc["models"][m]
                    _refs(models[m], todo)
    desc["operations"], desc["models"] = ops, models
    desc["enums"] = go_desc["source"]
    return desc, sorted(set(pops) - set(gops)), sorted(set(gops) - set(pops))


def plan(go, py):
    """Every service version to generate: (service, version, how, go path,
    python path), and the excluded ones with their reasons."""
    excluded = read_manifest()
    gv, pv = go_versions(go), py_versions(py)
    todo = []
    for key in sorted(set(gv) | set(pv)):
        if "%s/%s" % key in excluded:
            continue
        how = "both" if key in gv and key in pv else ("go" if key in gv else "python")
        todo.append((key[0], key[1], how, gv.get(key), pv.get(key)))
    return todo, excluded


def credentials_kind(go, py, gpath, ppath):
    """"global" when the SDK's client takes a domain's credentials first
    (GlobalCredentials: signed with X-Domain-Id), else "basic"."""
    if ppath:
        f = [x for x in py.list(ppath) if re.fullmatch(re.escape(ppath) + r"/[^/]*_client\.py", x)
             and not x.endswith("_async_client.py")][0]
        m = re.search(r'ClientBuilder\(cls(?:, "([^"]*)")?\)', py.read(f))
    else:
        f = [x for x in go.list(gpath) if re.fullmatch(re.escape(gpath) + r"/[^/]*_client\.go", x)][0]
        m = re.search(r'WithCredentialsType\("([^"]*)"\)', go.read(f))
    if not m:
        raise GenError("%s: no client builder" % f)
    first = (m.group(1) or "BasicCredentials").split(",")[0]
    return "global" if first in ("GlobalCredentials", "global.Credentials") else "basic"


def derived_auth(go, py, gpath, ppath):
    """The service name the SDK's client signs V11-HMAC-SHA256 (derived)
    requests under, or None (Python: _with_derived_auth_service_name, Go:
    WithDerivedAuthServiceName)."""
    if ppath:
        f = [x for x in py.list(ppath) if re.fullmatch(re.escape(ppath) + r"/[^/]*_client\.py", x)
             and not x.endswith("_async_client.py")][0]
        m = re.search(r'_with_derived_auth_service_name\("([^"]+)"\)', py.read(f))
    else:
        f = [x for x in go.list(gpath) if re.fullmatch(re.escape(gpath) + r"/[^/]*_client\.go", x)][0]
        m = re.search(r'WithDerivedAuthServiceName\("([^"]+)"\)', go.read(f))
    return m.group(1) if m else None


def gen_one(go, py, service, version, how, gpath, ppath):
    note = None
    if how == "go":
        desc = gen_go(go, service, service, version, gpath)
    elif how == "python":
        desc = gen_python(py, service, service, version, ppath)
    else:
        gdesc = gen_go(go, service, service, version, gpath)
        pdesc = gen_python(py, service, service, version, ppath)
        desc, added, dropped = python_with_go_enums(gdesc, pdesc)
        if added or dropped:
            note = (added, dropped, [])
    desc["credentials"] = credentials_kind(go, py, gpath, ppath)
    desc["derived_auth"] = derived_auth(go, py, gpath, ppath)
    return desc, note


def gen_job(job):
    go, py, service, version, how, gpath, ppath = job
    del WARNINGS[:]
    try:
        desc, note = gen_one(go, py, service, version, how, gpath, ppath)
        return desc, note, list(WARNINGS), None
    except GenError as exc:
        return None, None, list(WARNINGS), str(exc)


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def generate(go_dir, py_dir, out_dir, only=None):
    go = Source(go_dir, "services")
    py = Source(py_dir, "huaweicloud-sdk-core")
    todo, excluded = plan(go, py)
    summary = []
    written = []
    todo = [t for t in todo if not only or "%s_%s" % (t[0], t[1]) in only or t[0] in only]
    # the versions are independent: two processes (the output does not
    # depend on the order they finish in)
    jobs = [(go, py) + t for t in todo]
    if len(jobs) > 4:
        with multiprocessing.Pool(2) as pool:
            results = pool.map(gen_job, jobs, chunksize=1)
    else:
        results = [gen_job(j) for j in jobs]
    for (service, version, how, _g, _p), (desc, note, warns, error) in zip(todo, results):
        field = "%s_%s" % (service, version)
        WARNINGS.extend(warns)
        if error:
            raise GenError("%s: %s" % (field, error))
        summary.append((field, how, desc, note))
        main, rest = split_models(desc)
        companion = field + "_responses" if rest else None
        target = os.path.join(out_dir, field + ".lua")
        write(target, lua_file(desc, main, companion))
        written.append(target)
        if companion:
            target = os.path.join(out_dir, companion + ".lua")
            write(target, lua_models_file(field, desc, rest))
            written.append(target)
    return summary, written, excluded


def run_checker(files):
    res = subprocess.run(["lua5.4", CHECKER] + files, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    sys.stdout.write(res.stdout.decode(errors="replace"))
    if res.returncode != 0:
        raise GenError("tools/check_services.lua failed")


def print_summary(summary, excluded):
    nops = 0
    for field, how, desc, note in summary:
        nops += len(desc["operations"])
        line = "%-28s %-6s %4d operations %5d models %3d regions" % (
            field, how, len(desc["operations"]), len(desc["models"]), len(desc["regions"]))
        if note:
            added, dropped, shared = note
            line += "  newer SDK: +%d -%d" % (len(added), len(dropped))
            if shared:
                line += " (%d models kept from Go: %s)" % (len(shared), ", ".join(shared[:4]))
        print(line)
    for k in sorted(excluded):
        print("%-28s excluded: %s" % (k, excluded[k]))
    print("%d service versions, %d operations" % (len(summary), nops))


def compare(tmp, out):
    """Stale, missing and extra files of out against a fresh tmp."""
    stale = []
    new_names = set(os.listdir(tmp))
    old_names = {n for n in os.listdir(out) if n.endswith(".lua")} if os.path.isdir(out) else set()
    for name in sorted(new_names | old_names):
        committed, fresh = os.path.join(out, name), os.path.join(tmp, name)
        old = open(committed, encoding="utf-8").read() if name in old_names else None
        new = open(fresh, encoding="utf-8").read() if name in new_names else None
        if old != new:
            stale.append(committed)
            diff = difflib.unified_diff((old or "").splitlines(True), (new or "").splitlines(True),
                                        committed, "regenerated", n=1)
            sys.stdout.writelines(list(diff)[:20])
    return stale


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--go", required=True, help="Go SDK checkout or bare git mirror")
    ap.add_argument("--python", required=True, help="Python SDK checkout or bare git mirror")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare with the committed files")
    ap.add_argument("--out", default=OUT_DIR, help="output folder (default: %(default)s)")
    ap.add_argument("--only", action="append", help="generate only this service or service_vN")
    args = ap.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            summary, written, excluded = generate(args.go, args.python, tmp, args.only)
            run_checker(written)
            for w in WARNINGS:
                print("warning: " + w, file=sys.stderr)
            if args.check:
                stale = compare(tmp, args.out)
                if stale:
                    print("stale: %d files, e.g. %s (run `make services`)" % (
                        len(stale), os.path.relpath(stale[0], ROOT)), file=sys.stderr)
                    return 1
                print("services up to date: %d files" % len(written))
                return 0
            os.makedirs(args.out, exist_ok=True)
            if not args.only:
                for name in os.listdir(args.out):
                    if name.endswith(".lua") and not os.path.exists(os.path.join(tmp, name)):
                        os.remove(os.path.join(args.out, name))
            for path in written:
                shutil.copyfile(path, os.path.join(args.out, os.path.basename(path)))
            print_summary(summary, excluded)
            return 0
    except GenError as exc:
        print("gen_services: %s" % exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
