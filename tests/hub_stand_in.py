"""A stand-in for the Hugging Face Hub on loopback: the part of its HTTP API that `huggingface_hub` and
`datasets` use to create a repo, commit files to it and read them back. Tests point `HF_ENDPOINT` at it.

It keeps every repo in memory as a chain of commits (each a full {path: bytes} snapshot). Binary files
(parquet, images, weights) go through the LFS protocol (a batch call, then a PUT of the bytes; an object the
server holds already is not asked for again), text files inline in the commit, as on the Hub; the Xet
protocol is not spoken, so tests set HF_HUB_DISABLE_XET. It records each request, commit and LFS upload so
that tests can check what arrived, under which token, and what was sent twice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

USER = "tester"


def git_oid(content: bytes) -> str:
    """The git blob id of `content`: what the Hub reports as a regular file's oid."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Repo:
    kind: str  # "model" or "dataset"
    repo_id: str
    private: bool
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # sha -> snapshot
    refs: dict[str, str] = field(default_factory=dict)  # branch -> sha

    def snapshot(self, revision: str) -> tuple[str, dict[str, bytes]] | None:
        sha = self.refs.get(urllib.parse.unquote(revision), revision)
        return (sha, self.commits[sha]) if sha in self.commits else None


@dataclass
class Commit:
    repo_id: str
    revision: str
    sha: str
    sent: list[str]  # the paths whose content this commit carried
    deleted: list[str]


class HubStandIn:
    """The server's state, and the server itself (`start`, `stop`, `url`)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.commits: list[Commit] = []
        self.lfs: dict[str, bytes] = {}  # sha256 -> content
        self.lfs_uploads: list[str] = []  # the sha256 of each LFS upload, in order
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Authorization header
        self.fail_commits_with: str | None = None  # a commit carrying this path gets a 500
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "HubStandIn":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def files(self, kind: str, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """The files of a repo at a revision, as they arrived."""
        return self.repos[(kind, repo_id)].snapshot(revision)[1]

    def create_repo(self, body: dict) -> tuple[int, dict]:
        kind = body.get("type") or "model"
        repo_id = f"{body.get('organization') or USER}/{body['name']}"
        if (kind, repo_id) in self.repos:
            return 409, {"error": "You already created this repo", "url": self._repo_url(kind, repo_id)}
        private = body.get("visibility", "private" if body.get("private") else "public") == "private"
        repo = Repo(kind, repo_id, private=private)
        sha = self._new_sha(repo_id, "initial")
        repo.commits[sha], repo.refs["main"] = {".gitattributes": b"*.parquet filter=lfs\n"}, sha
        self.repos[(kind, repo_id)] = repo
        return 200, {"url": self._repo_url(kind, repo_id), "name": repo_id}

    def commit(self, repo: Repo, revision: str, lines: list[dict]) -> tuple[int, dict]:
        revision = urllib.parse.unquote(revision)
        sha, files = repo.snapshot(revision) or (None, None)
        if files is None:
            return 404, {"error": f"revision {revision} not found"}
        header = next(line["value"] for line in lines if line["key"] == "header")
        if header.get("parentCommit") and header["parentCommit"] != sha:
            return 412, {"error": "parent commit is not the head"}
        files, sent, deleted = dict(files), [], []
        for line in lines:
            value = line["value"]
            if line["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
                sent.append(value["path"])
            elif line["key"] == "lfsFile":
                if value["oid"] not in self.lfs:
                    return 422, {"error": f"LFS object {value['oid']} of {value['path']} was never uploaded"}
                files[value["path"]] = self.lfs[value["oid"]]
                sent.append(value["path"])
            elif line["key"] == "deletedFile":
                deleted.append(value["path"])
                files.pop(value["path"], None)
            elif line["key"] == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                deleted += [p for p in files if p.startswith(prefix)]
                files = {p: c for p, c in files.items() if not p.startswith(prefix)}
            elif line["key"] != "header":
                return 400, {"error": f"the stand-in does not take {line['key']} entries"}
        if self.fail_commits_with and self.fail_commits_with in sent:
            return 500, {"error": "the stand-in was told to fail this commit"}
        new = self._new_sha(repo.repo_id, header["summary"])
        repo.commits[new], repo.refs[revision] = files, new
        self.commits.append(Commit(repo.repo_id, revision, new, sent, deleted))
        return 200, {"commitUrl": f"{self._repo_url(repo.kind, repo.repo_id)}/commit/{new}", "commitOid": new,
                     "success": True}

    def _new_sha(self, repo_id: str, message: str) -> str:
        return hashlib.sha1(f"{repo_id}:{len(self.commits)}:{message}:{datetime.now()}".encode()).hexdigest()

    def _repo_url(self, kind: str, repo_id: str) -> str:
        return f"{self.url}/{'' if kind == 'model' else kind + 's/'}{repo_id}"


SIZE_CATEGORIES = {"n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B",
                   "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T"}
LIST_FIELDS = ("language", "tags", "task_categories", "task_ids", "size_categories", "source_datasets", "datasets")


def card_metadata_errors(content: str) -> list[str]:
    """What the Hub would refuse in a README's YAML front matter: not a mapping, a list field that is not a
    list of strings, an unknown size category, a config without a name or data files."""
    match = re.match(r"^---\n(.*?)\n---\n", content, re.DOTALL)
    if not match:
        return []
    try:
        metadata = yaml.safe_load(match[1]) or {}
    except yaml.YAMLError as err:
        return [f"the YAML does not parse: {err}"]
    if not isinstance(metadata, dict):
        return ["the metadata is not a mapping"]
    errors = [f"{name} must be a list of strings" for name in LIST_FIELDS
              if name in metadata and not (isinstance(metadata[name], list)
                                           and all(isinstance(v, str) for v in metadata[name]))]
    errors += [f"size_categories: {v} is not a size category" for v in metadata.get("size_categories") or []
               if v not in SIZE_CATEGORIES]
    errors += [f"configs: {c} needs a config_name and data_files" for c in metadata.get("configs") or []
               if not (isinstance(c, dict) and c.get("config_name") and c.get("data_files"))]
    if "license" in metadata and not isinstance(metadata["license"], (str, list)):
        errors.append("license must be a string")
    return errors


def _entries(files: dict[str, bytes], folder: str, recursive: bool) -> list[dict]:
    """Tree entries (files and folders) under `folder`, like the Hub's tree API."""
    prefix = folder.strip("/") + "/" if folder.strip("/") else ""
    entries, folders = [], set()
    for path, content in sorted(files.items()):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix):].split("/")
        for depth in range(1, len(rest)):
            if recursive or depth == 1:
                folders.add(prefix + "/".join(rest[:depth]))
        if recursive or len(rest) == 1:
            entries.append(_file_entry(path, content))
    return [{"type": "directory", "oid": git_oid(f.encode()), "size": 0, "path": f} for f in sorted(folders)] + entries


BINARY = (".parquet", ".png", ".safetensors", ".bin", ".arrow")


def is_lfs(path: str) -> bool:
    return path.endswith(BINARY)


def local_oid(path: str, content: bytes) -> str:
    """The id the client compares to tell an unchanged file: sha256 for LFS files, the git blob id otherwise."""
    return hashlib.sha256(content).hexdigest() if is_lfs(path) else git_oid(content)


def _file_entry(path: str, content: bytes) -> dict:
    entry = {"type": "file", "oid": git_oid(content), "size": len(content), "path": path}
    if is_lfs(path):
        entry["lfs"] = {"oid": hashlib.sha256(content).hexdigest(), "size": len(content), "pointerSize": 134}
    return entry


API = re.compile(r"^/api/(?P<kind>model|dataset)s/(?P<repo>[^/]+/[^/]+)(?:/(?P<verb>[a-z-]+)(?:/(?P<rest>.*))?)?$")
LFS_BATCH = re.compile(r"^/(?:(?P<kind>dataset)s/)?(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects/batch$")
LFS_PUT = re.compile(r"^/lfs-upload/(?P<oid>[0-9a-f]{64})$")
RESOLVE = re.compile(r"^/(?:(?P<kind>dataset)s/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")


def _handler(hub: HubStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self._serve(body=True)

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_PUT(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.payload = self.rfile.read(length)
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            with hub.lock:
                hub.requests.append((self.command, url.path, self.headers.get("Authorization")))
                status, answer, headers = self._route(url.path, query)
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if isinstance(answer, bytes)
                             else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _authorised(self) -> bool:
            return self.headers.get("Authorization") == f"Bearer {hub.token}"

        def _route(self, path: str, query: dict) -> tuple[int, dict | list | bytes, dict]:
            if path == "/api/whoami-v2":
                if not self._authorised():
                    return 401, {"error": "Invalid credentials in Authorization header"}, {}
                return 200, {"type": "user", "name": USER, "orgs": [],
                             "auth": {"type": "access_token", "accessToken": {"role": "write"}}}, {}
            if path == "/api/validate-yaml" and self.command == "POST":
                errors = card_metadata_errors(json.loads(self.payload)["content"])
                return (400 if errors else 200), {"errors": [{"message": e} for e in errors], "warnings": []}, {}
            if path == "/api/repos/create" and self.command == "POST":
                if not self._authorised():
                    return 401, {"error": "Invalid credentials"}, {}
                status, answer = hub.create_repo(json.loads(self.payload))
                return status, answer, {}
            match = LFS_BATCH.match(path)
            if match and self._authorised():
                objects = json.loads(self.payload)["objects"]
                return 200, {"transfer": "basic", "objects": [
                    {"oid": o["oid"], "size": o["size"], "authenticated": True,
                     **({} if o["oid"] in hub.lfs else {"actions": {"upload": {"href": f"{hub.url}/lfs-upload/{o['oid']}"}}})}
                    for o in objects]}, {}
            match = LFS_PUT.match(path)
            if match:
                if hashlib.sha256(self.payload).hexdigest() != match["oid"]:
                    return 400, {"error": "the content does not match its sha256"}, {}
                hub.lfs[match["oid"]] = self.payload
                hub.lfs_uploads.append(match["oid"])
                return 200, {}, {}
            match = RESOLVE.match(path)
            if match:
                return self._resolve(match["kind"] or "model", match["repo"], match["rev"],
                                     urllib.parse.unquote(match["path"]))
            match = API.match(path)
            if match:
                return self._api(match["kind"], match["repo"], match["verb"], match["rest"] or "", query)
            return 404, {"error": f"the stand-in has no route {self.command} {path}"}, {}

        def _repo(self, kind: str, repo_id: str) -> Repo | None:
            repo = hub.repos.get((kind, repo_id))
            if repo is None or (repo.private and not self._authorised()):
                return None
            return repo

        def _not_found(self, what: str) -> tuple[int, dict, dict]:
            return 404, {"error": f"{what} not found"}, {"X-Error-Code": "RepoNotFound"}

        def _api(self, kind: str, repo_id: str, verb: str | None, rest: str, query: dict):
            repo = self._repo(kind, repo_id)
            if repo is None:
                return self._not_found(f"repository {repo_id}")
            if verb in (None, "revision"):
                return self._info(repo, rest or "main")
            revision, _, folder = rest.partition("/")
            if verb == "tree":
                found = repo.snapshot(revision)
                if found is None:
                    return 404, {"error": "revision not found"}, {"X-Error-Code": "RevisionNotFound"}
                recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
                entries = _entries(found[1], urllib.parse.unquote(folder), recursive)
                if folder and not entries:
                    return 404, {"error": f"{folder} not found"}, {"X-Error-Code": "EntryNotFound"}
                return 200, entries, {}
            if verb == "paths-info":
                found = repo.snapshot(revision)
                form = urllib.parse.parse_qs(self.payload.decode())
                paths = form.get("paths", [])
                files = found[1]
                folders = {p.rsplit("/", 1)[0] for p in files if "/" in p}
                return 200, [_file_entry(p, files[p]) if p in files else
                             {"type": "directory", "oid": git_oid(p.encode()), "size": 0, "path": p}
                             for p in paths if p in files or p in folders], {}
            if not self._authorised():
                return 401, {"error": "Invalid credentials"}, {}
            if verb == "preupload":
                files = repo.snapshot(revision)[1]
                asked = json.loads(self.payload)["files"]
                return 200, {"files": [{"path": f["path"], "uploadMode": "lfs" if is_lfs(f["path"]) else "regular",
                                        "shouldIgnore": False,
                                        "oid": local_oid(f["path"], files[f["path"]]) if f["path"] in files else None}
                                       for f in asked]}, {}
            if verb == "commit":
                lines = [json.loads(line) for line in self.payload.decode().splitlines() if line.strip()]
                status, answer = hub.commit(repo, revision, lines)
                return status, answer, {}
            if verb == "branch":
                branch = urllib.parse.unquote(rest)
                repo.refs.setdefault(branch, repo.refs["main"])
                return 200, {}, {}
            return 404, {"error": f"the stand-in has no route for {verb}"}, {}

        def _info(self, repo: Repo, revision: str):
            found = repo.snapshot(revision)
            if found is None:
                return 404, {"error": "revision not found"}, {"X-Error-Code": "RevisionNotFound"}
            sha, files = found
            now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
            return 200, {"id": repo.repo_id, "sha": sha, "private": repo.private, "lastModified": now,
                         "siblings": [{"rfilename": p, "size": len(c)} for p, c in sorted(files.items())],
                         "tags": [], "downloads": 0, "likes": 0, "author": repo.repo_id.split("/")[0]}, {}

        def _resolve(self, kind: str, repo_id: str, revision: str, path: str):
            repo = self._repo(kind, repo_id)
            if repo is None:
                return self._not_found(f"repository {repo_id}")
            found = repo.snapshot(revision)
            if found is None:
                return 404, {"error": "revision not found"}, {"X-Error-Code": "RevisionNotFound"}
            sha, files = found
            if path not in files:
                return 404, {"error": f"{path} not found"}, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": sha}
            return 200, files[path], {"ETag": f'"{git_oid(files[path])}"', "X-Repo-Commit": sha}

    return Handler
