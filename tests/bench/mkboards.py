#!/usr/bin/python3
"""mkboards.py: a configuration with many board files, to time loading.

    mkboards.py DIR [--boards N] [--networks M] [--v6 FRACTION]
                    [--overlaps K] [--seed S] [--loopback] [--block L,...]

writes DIR/veiligd.yaml and DIR/boards/bNNNNN.yaml: N boards of M networks
each (N * M in all), no two of them overlapping unless --overlaps asks for
K overlapping pairs, then prints the number of networks. Then

    time build/veiligd -n -c DIR/veiligd.yaml

measures what the boards cost a load (and a reload, which reads the same
files). The networks are IPv4 /24s in 10.0.0.0/7 and upwards and IPv6 /48s
in 2001:db8::/32 (a FRACTION of them, default 0.5), dealt to the boards in
a shuffled order with a fixed seed, so that a board's networks lie far
apart as real ones do and every run writes the same files.

--overlaps K makes K extra networks, each inside one network of another
board (a /25 of a /24, a /56 of a /48, or the same network again), added
to a board chosen at random, so that `veiligd -n` must report K errors.
The lists: of the configuration are empty; filter.tables points at the
repository's blocklists/ (safesearch.txt, canaries.txt).

--loopback deals IPv4 /24s of 127.0.0.0/8 instead (127.0.1.0/24 and up,
at most 65,535; 127.0.0.0/24, where servers listen, is no board's), so
that a load generator on this machine can send from every board's
networks (tests/bench/blast -S; tests/bench/memory --boards). --block
writes "block: [ L, ... ]" into every board file, for a veiligd.yaml of
the caller's that defines those lists.
"""

import argparse
import os
import random
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def network(g, v6, loopback=False):
    """The g-th network of its family: distinct for distinct g."""
    if loopback:
        g += 1
        return "127.%d.%d.0/24" % (g >> 8, g & 0xff)
    if v6:
        # 2001:db8:XXXX::/48, then 2001:db9:..., 65,536 a /32.
        return "2001:%x:%x::/48" % (0xdb8 + (g >> 16), g & 0xffff)
    # 10.0.0.0/24, 10.0.1.0/24, ... 65,536 a /8, from 10/8 on.
    return "%d.%d.%d.0/24" % (10 + (g >> 16), (g >> 8) & 0xff, g & 0xff)


def inside(net, rnd):
    """A network overlapping net: half of it, or net itself."""
    if rnd.random() < 0.3:
        return net
    if ":" in net:
        return net.replace("::/48", ":%x00::/56" % rnd.randrange(256))
    return net[:-3] + "/25"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--boards", type=int, default=1000)
    ap.add_argument("--networks", type=int, default=4,
                    help="networks per board")
    ap.add_argument("--v6", type=float, default=0.5,
                    help="fraction of IPv6 networks")
    ap.add_argument("--overlaps", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--loopback", action="store_true",
                    help="IPv4 /24s of 127.0.0.0/8 only")
    ap.add_argument("--block", default="",
                    help="lists every board blocks, comma-separated")
    a = ap.parse_args()
    if a.boards < 1 or a.networks < 1 or not 0 <= a.v6 <= 1:
        ap.error("want at least one board and network, 0 <= v6 <= 1")
    if a.overlaps > 0 and a.boards < 2:
        ap.error("overlaps between boards need two boards")
    if a.loopback:
        if a.boards * a.networks > 65535:
            ap.error("--loopback: at most 65,535 networks")
        a.v6 = 0

    rnd = random.Random(a.seed)
    total = a.boards * a.networks
    n6 = int(total * a.v6)
    nets = [network(i, False, a.loopback) for i in range(total - n6)]
    nets += [network(i, True) for i in range(n6)]
    rnd.shuffle(nets)
    boards = [nets[b * a.networks:(b + 1) * a.networks]
              for b in range(a.boards)]
    for _ in range(a.overlaps):
        src = rnd.randrange(a.boards)
        dst = (src + 1 + rnd.randrange(a.boards - 1)) % a.boards
        boards[dst].append(inside(rnd.choice(boards[src]), rnd))

    bdir = os.path.join(a.dir, "boards")
    os.makedirs(bdir, exist_ok=True)
    for name in os.listdir(bdir):
        if name.endswith(".yaml"):
            os.unlink(os.path.join(bdir, name))
    with open(os.path.join(a.dir, "veiligd.yaml"), "w") as f:
        f.write("# written by tests/bench/mkboards.py\n"
                "upstreams: [ 127.0.0.1:5300 ]\n"
                "lists: {}\n"
                "boards: boards/*.yaml\n"
                "filter: { tables: %s }\n"
                "control: %s\n" % (os.path.join(REPO, "blocklists"),
                                   os.path.join(os.path.abspath(a.dir),
                                                "control.sock")))
    for b, bn in enumerate(boards):
        with open(os.path.join(bdir, "b%05d.yaml" % b), "w") as f:
            f.write("name: Stichting %05d\nnetworks:\n" % b)
            for net in bn:
                f.write('  - "%s"\n' % net)
            f.write("safe-search: %s\n" % ("true" if b % 2 else "false"))
            if a.block:
                f.write("block: [ %s ]\n" % ", ".join(a.block.split(",")))
    print(sum(len(bn) for bn in boards))
    return 0


if __name__ == "__main__":
    sys.exit(main())
