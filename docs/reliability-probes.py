#!/usr/bin/env python3
"""Reliability probes of issue #18, run against an `atconform` binary, loopback only, bounded.

usage: probe.py BINARY [PROBE...]     (needs root for the tmpfs of the full-disk probes)
Prints one line per probe: HELD/FELL, and the figures.
"""
import base64, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.request

BIN = os.path.abspath(sys.argv[1])
ONLY = sys.argv[2:]
WORK = tempfile.mkdtemp(prefix="relprobe-")
results = []


def rss_kib(pid):
    d = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                d[k] = int(v.split()[0])
    return d


class Sink:
    def __init__(self, *args, store=None):
        cmd = [BIN, "sink", "--listen", "127.0.0.1:0", "--api", "127.0.0.1:0"] + list(args)
        if store:
            cmd += ["--store", store]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        m = re.search(r"smtp=(\S+) smtps=\S+ api=(\S+)", line)
        if not m:
            raise RuntimeError("sink did not start: " + line + self.p.stderr.read())
        h, p = m.group(1).rsplit(":", 1)
        self.smtp = (h, int(p))
        self.api = m.group(2)
        self.out = []
        threading.Thread(target=self._drain, args=(self.p.stdout,), daemon=True).start()
        self.err = []
        threading.Thread(target=self._drain_err, daemon=True).start()

    def _drain(self, f):
        for l in f:
            self.out.append(l)

    def _drain_err(self):
        for l in self.p.stderr:
            self.err.append(l)

    def get(self, path, limit=None):
        with urllib.request.urlopen(f"http://{self.api}{path}", timeout=60) as r:
            return r.read()

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def conn(addr, src=None, timeout=10):
    s = socket.socket()
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect(addr)
    return s


def reply(s):
    buf = b""
    while True:
        c = s.recv(4096)
        if not c:
            return buf.decode(errors="replace")
        buf += c
        lines = buf.split(b"\r\n")
        for l in lines[:-1]:
            if len(l) >= 4 and l[3:4] == b" ":
                return buf.decode(errors="replace")


def say(s, line):
    s.sendall(line.encode() if isinstance(line, str) else line)
    return reply(s)


def send_mail(addr, body, auth=None):
    s = conn(addr)
    try:
        reply(s)
        say(s, "EHLO probe\r\n")
        if auth:
            say(s, "AUTH PLAIN " + base64.b64encode(auth).decode() + "\r\n")
        say(s, "MAIL FROM:<a@x.test>\r\n")
        say(s, "RCPT TO:<b@y.test>\r\n")
        say(s, "DATA\r\n")
        r = say(s, body + b".\r\n")
        try:
            say(s, "QUIT\r\n")
        except OSError:
            pass
        return r
    finally:
        s.close()


def record(name, held, figures):
    results.append((name, held, figures))
    print(f"{'HELD' if held else 'FELL'}  {name}: {figures}", flush=True)


def tmpfs(size):
    d = tempfile.mkdtemp(prefix="tiny-", dir=WORK)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", d], check=True)
    return d


def umount(d):
    subprocess.run(["umount", "-l", d])


# ---- P1: full disk ------------------------------------------------------------------------
def p_full_disk():
    d = tmpfs("192k")
    try:
        sink = Sink(store=d)
        ok = refused = 0
        bodies = {}
        for i in range(30):
            body = (f"Subject: m{i}\r\n\r\n" + ("x" * 70 + "\r\n") * 200).encode()
            r = send_mail(sink.smtp, body)
            if r.startswith("250"):
                ok += 1
                m = re.search(r"queued as (\d+)", r)
                bodies[m.group(1)] = body
            else:
                refused += 1
        time.sleep(0.5)
        sink.stop()
        intact = 0
        for mid, body in bodies.items():
            try:
                with open(os.path.join(d, f"{mid}.eml"), "rb") as f:
                    data = f.read()
                json.load(open(os.path.join(d, f"{mid}.json")))
                if data == body:
                    intact += 1
            except Exception:
                pass
        stray = [n for n in os.listdir(d) if n.endswith((".eml", ".json")) and n.split(".")[0] not in bodies]
        logged = any("error" in l.lower() or "fail" in l.lower() for l in sink.err + sink.out)
        held = intact == ok and refused > 0 and logged and not stray
        record("P1 full-disk store", held,
               f"30 sent, {ok} answered 250, {intact} of them intact on disk, {refused} refused, "
               f"{len(stray)} stray/partial files, error logged={logged}")
    finally:
        umount(d)


# ---- P2/P3/P6: scenarios ------------------------------------------------------------------
SCN_HEAD = """title: probe
source: 000 §3.1
profiles: ec25

@var SMTP_SERVER = {server}
@var SMTP_PORT = {port}
@var SMTP_USER = probeuser
@secret SMTP_PASSWORD = Zq9-probe-secret-77
{resolve}
> AT+QICSGP=1,1,"UNINET","",1
< OK
> AT+QIACT=1
@within 150s
< OK
> AT+QSMTPCFG="contextid",1
< OK
> AT+QSMTPCFG="ssltype",0
< OK
> AT+QSMTPCFG="smtpserver","${{SMTP_SERVER}}",${{SMTP_PORT}}
< OK
> AT+QSMTPCFG="account","${{SMTP_USER}}","${{SMTP_PASSWORD}}"
< OK
> AT+QSMTPCFG="sender","${{SMTP_USER}}","a@x.test"
< OK
> AT+QSMTPDST=1,1,"b@y.test"
< OK
> AT+QSMTPSUB=0,"PROBE"
< OK
"""
SCN_BODY_FILE = """> AT+QSMTPBODY=0,{n},120
< CONNECT
@data file({path})
< +QSMTPBODY: {n}
< OK
"""
SCN_BODY_SECRET = """> AT+QSMTPBODY=0,{n},120
< CONNECT
@data "pw is ${{SMTP_PASSWORD}}\\r\\n"
< +QSMTPBODY: {n}
< OK
"""
SCN_TAIL = """> AT+QSMTPPUT=300
< OK
@within 300s
~ +QSMTPPUT: 0,0
"""


def run_cli(args, timeout=120, cwd=None):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def p_scenario_files():
    d = os.path.join(WORK, "scn-files")
    os.makedirs(os.path.join(d, "sub", "data"))
    with open(os.path.join(d, "secret.txt"), "w") as f:
        f.write("TOP-SECRET-OUTSIDE\n")
    os.symlink(os.path.join(d, "secret.txt"), os.path.join(d, "sub", "data", "link.txt"))
    n = len("TOP-SECRET-OUTSIDE\n")
    tries = {
        "absolute": os.path.join(d, "secret.txt"),
        "dotdot": "../secret.txt",
        "symlink": "data/link.txt",
    }
    loaded = []
    exfil = []
    for kind, path in tries.items():
        f = os.path.join(d, "sub", f"{kind}.scn")
        with open(f, "w") as fh:
            fh.write(SCN_HEAD.format(server="smtp.163.com", port=25, resolve="@resolve smtp.163.com sink")
                     + SCN_BODY_FILE.format(n=n, path=path) + SCN_TAIL)
        out = os.path.join(WORK, f"run-{kind}")
        r = run_cli(["run", f, "--emulator", "ec25", "--out", out, "--quiet"])
        err = r.stderr + r.stdout
        if r.returncode == 2 and re.search(r"\.scn:\d+:\d+", err):
            continue
        loaded.append(kind)
        for root, _, files in os.walk(out):
            for fn in files:
                if "TOP-SECRET-OUTSIDE" in open(os.path.join(root, fn), errors="replace").read():
                    exfil.append(kind)
    record("P2 scenario file escapes", not loaded,
           f"3 tried (absolute, ../, symlink); loaded: {loaded or 'none'}; file content mailed out: {sorted(set(exfil)) or 'no'}")


def p_delivery_policy():
    # An "outside" SMTP server: any host the scenario names (here on loopback, so the probe stays local).
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(5)
    ls.settimeout(0.2)
    port = ls.getsockname()[1]
    hits = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                c, _ = ls.accept()
            except socket.timeout:
                continue
            hits.append(1)
            try:
                c.sendall(b"421 probe\r\n")
            except OSError:
                pass
            c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    d = os.path.join(WORK, "scn-deliver")
    os.makedirs(d)
    f = os.path.join(d, "deliver.scn")
    with open(f, "w") as fh:
        fh.write(SCN_HEAD.format(server="127.0.0.1", port=port, resolve="")
                 + SCN_BODY_SECRET.format(n=len("pw is Zq9-probe-secret-77\r\n")) + SCN_TAIL)
    r = run_cli(["run", f, "--emulator", "ec25", "--out", os.path.join(WORK, "run-deliver"), "--quiet"])
    time.sleep(0.3)
    stop.set()
    t.join()
    ls.close()
    record("P3 run delivers only where allowed", not hits,
           f"scenario names 127.0.0.1:{port} without @resolve: {len(hits)} connection(s) made; exit {r.returncode}")


def p_secret_in_smtp_txt():
    d = os.path.join(WORK, "scn-secret")
    os.makedirs(d)
    f = os.path.join(d, "secret.scn")
    body = "pw is Zq9-probe-secret-77\r\n"
    with open(f, "w") as fh:
        fh.write(SCN_HEAD.format(server="smtp.163.com", port=25, resolve="@resolve smtp.163.com sink")
                 + SCN_BODY_SECRET.format(n=len(body)) + SCN_TAIL)
    out = os.path.join(WORK, "run-secret")
    r = run_cli(["run", f, "--emulator", "ec25", "--out", out, "--quiet", "--report", "junit:" + os.path.join(out, "j.xml")])
    leaks = []
    files = 0
    for root, _, fs in os.walk(out):
        for fn in fs:
            files += 1
            data = open(os.path.join(root, fn), "rb").read()
            for form in (b"Zq9-probe-secret-77", base64.b64encode(b"Zq9-probe-secret-77")):
                if form in data:
                    leaks.append(fn)
    leaks += ["stdout"] if "Zq9-probe-secret-77" in r.stdout + r.stderr else []
    record("P6 @secret in run artefacts", not leaks and files > 1,
           f"exit {r.returncode}, {files} files grepped, leaks in: {sorted(set(leaks)) or 'none'}")


# ---- P4/P5: AUTH redaction in the sink --------------------------------------------------
def p_auth_redaction():
    store = os.path.join(WORK, "store-auth")
    sink = Sink(store=store)
    secret_a = b"\0user\0PIPELINED-PW-1"
    s = conn(sink.smtp)
    reply(s)
    say(s, "EHLO x\r\n")
    s.sendall(b"STARTTLS\r\nAUTH PLAIN " + base64.b64encode(secret_a) + b"\r\n")
    reply(s)
    s.close()
    long_pw = b"LONGPW-" + b"L" * 5000
    s = conn(sink.smtp)
    reply(s)
    say(s, "EHLO x\r\n")
    s.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0user\0" + long_pw) + b"\r\n")
    reply(s)
    say(s, "QUIT\r\n")
    s.close()
    time.sleep(0.5)
    api = sink.get("/api/transcripts")
    sink.stop()
    files = b""
    for root, _, fs in os.walk(store):
        for fn in fs:
            files += open(os.path.join(root, fn), "rb").read()
    b64a = base64.b64encode(secret_a)
    b64l = base64.b64encode(b"\0user\0" + long_pw)[20:60]
    a_leak = [w for w, blob in (("store", files), ("api", api)) if b64a in blob]
    l_leak = [w for w, blob in (("store", files), ("api", api)) if b64l in blob]
    record("P4 AUTH pipelined after STARTTLS redacted", not a_leak, f"leaked in: {a_leak or 'none'}")
    record("P5 AUTH line > 4096 bytes redacted", not l_leak, f"leaked in: {l_leak or 'none'}")


# ---- P7/P8: memory ----------------------------------------------------------------------
def flood_one(addr, total):
    s = conn(addr, timeout=120)
    got = [0]

    def rd():
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                got[0] += len(c)
        except OSError:
            pass

    t = threading.Thread(target=rd, daemon=True)
    t.start()
    chunk = b"NOOP\r\n" * 10000
    sent = 0
    try:
        while sent < total:
            s.sendall(chunk)
            sent += len(chunk)
        s.sendall(b"QUIT\r\n")
    except OSError:
        pass
    t.join(120)
    s.close()


def p_memory():
    sink = Sink("--max-connections", "256")
    threads = []
    n, per = 24, 4 * 1024 * 1024
    t0 = time.time()
    for i in range(n):
        th = threading.Thread(target=flood_one, args=(sink.smtp, per))
        th.start()
        threads.append(th)
        if len(threads) >= 8:
            threads.pop(0).join()
    for th in threads:
        th.join()
    time.sleep(1.0)
    m = rss_kib(sink.p.pid)
    rss_after = m["VmRSS"] // 1024
    hwm_flood = m["VmHWM"] // 1024
    record("P7 RSS after flood sessions (ceiling 256 MiB)", rss_after < 256,
           f"{n} sessions x {per >> 20} MiB of pipelined NOOP in {time.time()-t0:.0f} s; RSS after = {rss_after} MiB, peak = {hwm_flood} MiB")
    t0 = time.time()
    try:
        body = sink.get("/api/transcripts")
        size = len(body)
    except Exception as e:
        size = -1
    m = rss_kib(sink.p.pid)
    record("P8 GET /api/transcripts bounded (ceiling 256 MiB peak)", m["VmHWM"] // 1024 < 256 and 0 <= size < 64 << 20,
           f"one unauthenticated GET: {size / 1e6:.1f} MB of JSON in {time.time()-t0:.1f} s, sink peak RSS {m['VmHWM'] // 1024} MiB")
    sink.stop()


# ---- P9: non-reading / idle clients ----------------------------------------------------
def p_lockout():
    sink = Sink("--idle-timeout", "3s")
    hogs = []
    for i in range(64):
        try:
            s = conn(sink.smtp, timeout=5)
            s.setblocking(False)
            hogs.append(s)
        except OSError:
            break
    # Each hog pipelines NOOPs and never reads: the sink's writes block.
    payload = b"NOOP\r\n" * 20000
    t_end = time.time() + 2.0
    while time.time() < t_end:
        for s in hogs:
            try:
                s.send(payload)
            except (BlockingIOError, OSError):
                pass
        time.sleep(0.05)
    time.sleep(3 + 3)  # idle timeout + margin
    try:
        s = conn(sink.smtp, timeout=5)
        first = reply(s)[:40]
        s.close()
    except Exception as e:
        first = f"error {e}"
    for s in hogs:
        s.close()
    sink.stop()
    record("P9a non-reading clients vs --idle-timeout 3s", first.startswith("220"),
           f"64 non-reading pipelining clients; new client 6 s later got {first.strip()!r}")

    sink = Sink()
    hogs = []
    for i in range(64):
        try:
            hogs.append(conn(sink.smtp, timeout=5))
        except OSError:
            break
    time.sleep(0.5)
    try:
        s = conn(sink.smtp, src="127.0.0.2", timeout=5)
        first = reply(s)[:60]
        s.close()
    except Exception as e:
        first = f"error {e}"
    for s in hogs:
        s.close()
    sink.stop()
    record("P9b 64 idle connections (default flags) lock out another client", first.startswith("220"),
           f"client from 127.0.0.2 got {first.strip()!r}")


# ---- P10/P11/P12: run directories and diff --------------------------------------------
def p_run_dirs():
    d = tmpfs("64k")
    try:
        with open(os.path.join(d, "fill"), "wb") as f:
            try:
                f.write(b"\0" * (1 << 20))
            except OSError:
                pass
        out = os.path.join(d, "run")
        r = run_cli(["run", "--filter", "quectel/3.1-send-plain", "--emulator", "ec25", "--out", out, "--quiet"])
        has_report = os.path.exists(os.path.join(out, "report.json"))
        claims = "report.json" in r.stdout
        record("P10 run on a full disk", r.returncode == 2,
               f"exit {r.returncode}, report.json exists={has_report}, stdout claims it={claims}, stderr={r.stderr.strip()[:80]!r}")
    finally:
        umount(d)
    out = os.path.join(WORK, "run-reuse")
    r1 = run_cli(["run", "--filter", "quectel/3.1-send-plain", "--emulator", "ec25", "--out", out, "--quiet"])
    r2 = run_cli(["run", "--filter", "quectel/2.2.6", "--emulator", "ec25", "--out", out, "--quiet"])
    stale = [f for f in os.listdir(out) if "3.1-send-plain" in f]
    r3 = run_cli(["run", "--filter", "quectel/2.2.6", "--emulator", "ec25", "--out", out, "--quiet", "--force"])
    stale3 = [f for f in os.listdir(out) if "3.1-send-plain" in f]
    held = r2.returncode == 2 and r3.returncode == 0 and not stale3
    record("P11 run --out into an existing run", held,
           f"second run exit {r2.returncode}, stale transcripts after it: {len(stale)}; --force exit {r3.returncode}, stale after: {len(stale3)}")
    a = os.path.join(WORK, "diff-a")
    b = os.path.join(WORK, "diff-b")
    run_cli(["run", "--filter", "quectel/3.1-send-plain", "--emulator", "ec25", "--out", a, "--quiet"])
    shutil.copytree(a, b)
    gone = [f for f in os.listdir(b) if f.endswith(".ec25.txt")][0]
    os.remove(os.path.join(b, gone))
    r = run_cli(["diff", a, b])
    says = "missing" in (r.stdout + r.stderr).lower()
    record("P12 diff names a missing transcript", says, f"exit {r.returncode}, says 'missing'={says}: {(r.stdout.strip().splitlines() or [''])[0][:90]!r}")


# ---- P13/P14/P15: emulator -------------------------------------------------------------
def start_emulator(*args):
    p = subprocess.Popen([BIN, "emulate"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    return p, line


def p_emulator():
    p, line = start_emulator("--listen", "127.0.0.1:0")
    h, port = line.strip().rsplit(" ", 1)[-1].rsplit(":", 1)
    s = conn((h, int(port)))
    s.setblocking(False)
    t_end = time.time() + 2
    sent = 0
    while time.time() < t_end:
        try:
            sent += s.send(b"AT\r" * 4096)
        except BlockingIOError:
            time.sleep(0.01)
    # second client while the first is connected
    c2 = conn((h, int(port)), timeout=2)
    try:
        got = c2.recv(200)
    except socket.timeout:
        got = None
    c2.close()
    record("P15 second TCP client of the emulator", bool(got),
           f"second client got {got!r}" if got is not None else "second client got silence for 2 s")
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
        dt = time.time() - t0
    except subprocess.TimeoutExpired:
        dt = None
        p.kill()
        p.wait()
    s.close()
    record("P13 emulator SIGTERM while the host does not read", dt is not None and dt < 1.0,
           f"{sent} bytes sent unread; exit after {dt:.2f} s" if dt is not None else f"{sent} bytes sent unread; still running 5 s after SIGTERM (killed)")

    d = os.path.join(WORK, "pty")
    os.makedirs(d)
    target = os.path.join(d, "someones-file")
    open(target, "w").write("keep me")
    link = os.path.join(d, "link")
    os.symlink(target, link)
    p, line = start_emulator("--pty-link", link)
    time.sleep(0.5)
    replaced = os.path.islink(link) and os.readlink(link) != target
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    survived = os.path.islink(link) and os.readlink(link) == target
    link2 = os.path.join(d, "live")
    a, la = start_emulator("--pty-link", link2)
    time.sleep(0.3)
    first = os.readlink(link2)
    b, lb = start_emulator("--pty-link", link2)
    time.sleep(0.3)
    taken = os.path.islink(link2) and os.readlink(link2) != first
    b_running = b.poll() is None
    for q in (a, b):
        if q.poll() is None:
            q.send_signal(signal.SIGTERM)
            try:
                q.wait(5)
            except subprocess.TimeoutExpired:
                q.kill()
    held = not replaced and survived and not taken
    record("P14 --pty-link over someone's link / a live link", held,
           f"foreign symlink replaced={replaced}, still there after exit={survived}; second emulator took over a live link={taken} (running={b_running})")


# ---- P16/P17: restart, AUTH throttling --------------------------------------------------
def p_restart():
    store = os.path.join(WORK, "store-restart")
    sink = Sink(store=store)
    # A connection that got its 250 and is still open when the sink dies (kill -9).
    s = conn(sink.smtp)
    reply(s)
    for l in ("EHLO x\r\n", "MAIL FROM:<a@x.test>\r\n", "RCPT TO:<b@y.test>\r\n", "DATA\r\n"):
        say(s, l)
    r1 = say(s, b"Subject: one\r\n\r\nfirst\r\n.\r\n")
    time.sleep(0.3)
    sink.stop(signal.SIGKILL)
    s.close()
    sink = Sink(store=store)
    r = send_mail(sink.smtp, b"Subject: two\r\n\r\nsecond\r\n")
    time.sleep(0.5)
    listed = json.loads(sink.get("/api/messages"))
    sink.stop()
    ids = [m["id"] for m in listed]
    conns = []
    for fn in os.listdir(store):
        if fn.endswith(".json"):
            conns.append(json.load(open(os.path.join(store, fn)))["connection"])
    held = len(listed) == 2 and len(set(conns)) == len(conns) == 2 and "queued as 2" in r
    record("P16 sink restart on the same --store", held,
           f"first {r1.strip()!r}, kill -9 with it open; after restart: {r.strip()!r}; API lists ids {ids}; "
           f"connection numbers of the stored messages {sorted(conns)}")


def p_auth_throttle():
    sink = Sink("--auth", "user:right")
    s = conn(sink.smtp)
    reply(s)
    say(s, "EHLO x\r\n")
    t0 = time.time()
    codes = []
    for i in range(30):
        try:
            r = say(s, "AUTH PLAIN " + base64.b64encode(b"\0user\0wrong%d" % i).decode() + "\r\n")
        except OSError:
            break
        if not r:
            break
        codes.append(r[:3])
    s.close()
    # and from fresh connections
    fresh = []
    for i in range(20):
        try:
            s = conn(sink.smtp, timeout=5)
            reply(s)
            say(s, "EHLO x\r\n")
            r = say(s, "AUTH PLAIN " + base64.b64encode(b"\0user\0again%d" % i).decode() + "\r\n")
            fresh.append(r[:3])
            s.close()
        except OSError:
            fresh.append("err")
    dt = time.time() - t0
    sink.stop()
    n535 = codes.count("535") + fresh.count("535")
    held = n535 <= 15
    record("P17 AUTH failure throttling", held,
           f"30 wrong passwords on one connection: {len(codes)} answered ({codes.count('535')} x 535, then {codes[-1] if codes else '-'}); "
           f"20 fresh connections: {fresh.count('535')} x 535, others {sorted(set(fresh) - {'535'})}; {dt:.1f} s")


PROBES = [
    ("full", p_full_disk), ("files", p_scenario_files), ("deliver", p_delivery_policy),
    ("auth", p_auth_redaction), ("secret", p_secret_in_smtp_txt), ("memory", p_memory),
    ("lockout", p_lockout), ("rundirs", p_run_dirs), ("emulator", p_emulator),
    ("restart", p_restart), ("throttle", p_auth_throttle),
]
try:
    for key, fn in PROBES:
        if ONLY and key not in ONLY:
            continue
        try:
            fn()
        except Exception as e:
            import traceback
            traceback.print_exc()
            record(f"{key} (probe error)", False, repr(e))
finally:
    subprocess.run(["bash", "-c", f"grep ' {WORK}' /proc/mounts | cut -d' ' -f2 | xargs -r -n1 umount -l"])
    held = sum(1 for r in results if r[1])
    print(f"\n{len(results)} probes tried, {held} held, {len(results) - held} fell short")
