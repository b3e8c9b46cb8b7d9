#!/usr/bin/env python3
"""Multi-node benchmark of docs/BENCHMARKS.md ("Two nodes + Redis"): the standard scenario
(1,000 connections, 100 rooms x 10, 100 senders, RATE msg/s) against one node, then against
two nodes sharing a redis-server and one SQLite directory, with every room spread over both
nodes (chat-loadgen --ports). Prints one line per run: delivered ratio, order violations,
p99 ack latency, and the CPU of the chat processes (nodes + Redis) per 1,000 deliveries
during the measured window. Builds nothing: uses build/tools/chatd and chat-loadgen.

  tools/bench/multinode.py [--rate 5000] [--duration 20] [--nodes 1,2] [--chatd PATH]

--chatd runs another chatd binary (A/B comparisons: keep a copy of the base build); it still
runs from the source tree, so it reads this tree's caf-application.conf.
"""
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHATD = os.path.join(ROOT, "build/tools/chatd")
NODE_ARGS = []
LOADGEN = os.path.join(ROOT, "build/tools/chat-loadgen")
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def thread_cpu_s(pid):
    """CPU seconds of a process's threads, summed by thread name (chat.io, chat.redis, CAF's
    caf.multiplexer workers, caf.actor detached actors such as the store writer, ...)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                head, rest = f.read().rsplit(")", 1)
            fields = rest.split()
        except OSError:
            continue
        name = head.split("(", 1)[1]
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / TICK
    return out


def start_node(name, data, redis_uri):
    args = [CHATD] + NODE_ARGS + ["--net.port=0", "--admin.port=0", "--storage.path=" + data,
            "--chat.node=" + name, "--log.level=warn",
            "--security.allow-anonymous=true"]
    if redis_uri:
        args.append("--redis.uri=" + redis_uri)
    # From the source tree, so that chatd reads its caf-application.conf (the scheduler
    # policy in it matters: CAF's default work-stealing polls).
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         cwd=ROOT)
    ws = admin = None
    while ws is None or admin is None:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("chatd exited")
        m = re.match(r"listening (ws|admin)=.*:(\d+)", line)
        if m and m.group(1) == "ws":
            ws = int(m.group(2))
        elif m:
            admin = int(m.group(2))
    return p, ws, admin


def metrics(admin):
    """The node's counters from /metrics (name -> value, unlabelled series only)."""
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5).read()
    out = {}
    for line in body.decode().splitlines():
        m = re.match(r"^(\w+) ([0-9.e+-]+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def command_stats(port):
    """Redis's own account (INFO commandstats, whole run): calls and usec per call."""
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "commandstats"],
                         capture_output=True, text=True).stdout
    stats = {}
    for m in re.finditer(r"cmdstat_(\w+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)", out):
        stats[m.group(1)] = (int(m.group(2)), float(m.group(4)))
    return stats


def run(nodes, rate, duration, warmup=3, drain=2):
    work = tempfile.mkdtemp(prefix="chat-mn-bench-")
    procs, redis = [], None
    try:
        uri = None
        if nodes > 1:
            port = free_port()
            redis = subprocess.Popen(["redis-server", "--port", str(port), "--save", "",
                                      "--appendonly", "no", "--dir", work],
                                     stdout=subprocess.DEVNULL)
            uri = "redis://127.0.0.1:%d" % port
            time.sleep(0.3)
        ports, admins = [], []
        for i in range(nodes):
            p, ws, admin = start_node("n%d" % i, work, uri)
            procs.append(p)
            ports.append(ws)
            admins.append(admin)
        watched = [p.pid for p in procs] + ([redis.pid] if redis else [])
        lg = subprocess.Popen([LOADGEN, "--ports", ",".join(map(str, ports)), "--conns", "1000",
                               "--rooms", "100", "--senders", "100", "--rate", str(rate),
                               "--warmup", str(warmup), "--duration", str(duration),
                               "--drain", str(drain), "--threads", "1", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The measured window starts after the joins and the warm-up: sample CPU then.
        begin = None
        lines = []
        for line in lg.stderr:
            lines.append(line)
            if begin is None and " measure " in line:
                begin = (time.time(), [cpu_s(p) for p in watched],
                         [thread_cpu_s(p) for p in watched])
            if begin is not None and " drain " in line:
                break
        end = (time.time(), [cpu_s(p) for p in watched], [thread_cpu_s(p) for p in watched])
        out, _ = lg.communicate()
        rep = json.loads(out)
        if redis:
            rep["redis_commands"] = command_stats(port)
            # Whole run: commands per socket write to Redis (pipelining), per node.
            rep["pipelining"] = []
            for a in admins:
                m = metrics(a)
                rep["pipelining"].append((m.get("chat_redis_commands_total", 0),
                                          m.get("chat_redis_writes_total", 0)))
        return rep, begin, end
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
        if redis:
            redis.kill()
            redis.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    global CHATD, NODE_ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--nodes", default="1,2", help="node counts to run, in order")
    ap.add_argument("--chatd", default=CHATD, help="the chatd binary")
    ap.add_argument("--node-arg", action="append", default=[],
                    help="an extra chatd option for every node (repeatable), e.g. --redis.batch-delay=0ms")
    a = ap.parse_args()
    CHATD = os.path.abspath(a.chatd)
    NODE_ARGS = a.node_arg
    for nodes in [int(n) for n in a.nodes.split(",")]:
        rep, begin, end = run(nodes, a.rate, a.duration)
        parts = [e - b for b, e in zip(begin[1], end[1])] if begin else []
        cpu = sum(parts) if begin else float("nan")
        secs = end[0] - begin[0] if begin else float("nan")
        deliveries_per_s = rep.get("deliveries_per_s", 0)
        per_k = cpu / (deliveries_per_s * secs / 1000) if deliveries_per_s else float("nan")
        lat, ack = rep.get("latency_ms", {}), rep.get("ack_latency_ms", {})
        print("nodes=%d rate=%d sent/s=%.0f delivered_ratio=%.4f order_violations=%d "
              "p50_ms=%s p99_ms=%s ack_p99_ms=%s cpu_s=%.2f window_s=%.1f "
              "cpu_ms_per_1k_deliveries=%.1f cpu_s_by_process(nodes..., redis)=%s"
              % (nodes, a.rate, rep.get("sent_per_s", 0), rep.get("delivered_ratio", 0),
                 rep.get("order_violations", -1), lat.get("p50"), lat.get("p99"), ack.get("p99"),
                 cpu, secs, per_k * 1e3, ",".join("%.2f" % x for x in parts)))
        if begin:
            for i, (b, e) in enumerate(zip(begin[2], end[2])):
                label = "redis" if nodes > 1 and i == nodes else "node%d" % i
                print("  %s threads (CPU s): " % label + ", ".join(
                    "%s=%.2f" % (k, e[k] - b.get(k, 0))
                    for k in sorted(e, key=lambda k: -(e[k] - b.get(k, 0)))
                    if e[k] - b.get(k, 0) >= 0.01))
        cmds = rep.get("redis_commands")
        if cmds:
            busiest = sorted(cmds.items(), key=lambda kv: -kv[1][0] * kv[1][1])[:6]
            print("  redis commands (calls, usec per call): "
                  + ", ".join("%s=%d/%.1f" % (k, v[0], v[1]) for k, v in busiest))
        if rep.get("pipelining"):
            print("  Redis commands per socket write, by node: " + ", ".join(
                "%.2f" % (c / w if w else 0) for c, w in rep["pipelining"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
