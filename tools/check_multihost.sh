#!/bin/sh
# Two hosts for real on one machine (`make check-multihost`): two network namespaces joined by a
# veth pair, each its own host to Open MPI (its own address and host name), and mpirun across
# them over TCP, one process per host. Open MPI starts the remote daemon through
# `plm_rsh_agent`, here a script that enters the other namespace where a cluster would use ssh.
# The same flow is then trained in one process and the two runs compared
# (tools/compare_runs.py). Needs root (namespaces) and Open MPI; the file system is shared, as
# a cluster's would be.
#
#     tools/check_multihost.sh FLOWTRAIN FLOW [TRAIN OPTIONS...]
set -eu
flowtrain=$(realpath "$1"); flow=$(realpath "$2"); shift 2
[ "$(id -u)" = 0 ] || { echo "check-multihost: needs root to make network namespaces (run it with sudo)" >&2; exit 1; }
command -v ip > /dev/null || { echo "check-multihost: ip is missing: apt-get install iproute2" >&2; exit 1; }
command -v mpirun > /dev/null || { echo "check-multihost: mpirun is missing: make deps installs Open MPI" >&2; exit 1; }

work=$(realpath -m .build-multihost)
a=ft-host-a b=ft-host-b subnet=10.77.0.0/24 address_a=10.77.0.1 address_b=10.77.0.2
cleanup() { ip netns del $a 2> /dev/null || true; ip netns del $b 2> /dev/null || true; }
trap cleanup EXIT
cleanup
rm -rf "$work" && mkdir -p "$work"

ip netns add $a && ip netns add $b
ip link add veth-ft-a type veth peer name veth-ft-b
ip link set veth-ft-a netns $a && ip link set veth-ft-b netns $b
ip -n $a addr add $address_a/24 dev veth-ft-a && ip -n $b addr add $address_b/24 dev veth-ft-b
for ns in $a $b; do ip -n $ns link set lo up; done
ip -n $a link set veth-ft-a up && ip -n $b link set veth-ft-b up

# Open MPI calls the agent as `AGENT HOST COMMAND...` and the command's arguments carry their own
# quotes, so the remote shell parses the joined line, as ssh's would.
cat > "$work/agent.sh" << EOF
#!/bin/sh
host=\$1; shift
case \$host in
  $address_b) exec ip netns exec $b unshare --uts sh -c 'hostname $b; exec sh -c "\$0"' "\$*" ;;
  *) echo "agent.sh: no namespace for host \$host" >&2; exit 1 ;;
esac
EOF
chmod +x "$work/agent.sh"

mpi="mpirun --allow-run-as-root --bind-to none"  # the fake hosts share the cores: no pinning
train() { run=$1; shift; "$flowtrain" train "$flow" --run-dir "$work/$run" "$@"; }
echo "one process:"
train one --threads 1 "$@"
echo "two processes on this host (shared memory):"
$mpi --oversubscribe -np 2 "$flowtrain" train "$flow" --threads 1 --run-dir "$work/local" "$@"
echo "two hosts ($a at $address_a, $b at $address_b), one process each, over TCP:"
ip netns exec $a unshare --uts sh -c "hostname $a; exec $mpi -H $address_a:1,$address_b:1 -np 2 \
  --mca plm_rsh_agent $work/agent.sh --mca oob_tcp_if_include $subnet --mca btl tcp,self \
  --mca btl_tcp_if_include $subnet --display-map \"\$0\" \"\$@\"" \
  "$flowtrain" train "$flow" --threads 1 --run-dir "$work/hosts" "$@"

compare="python3 $(dirname "$0")/compare_runs.py"
# Two processes add two gradients, a + b = b + a, wherever the processes run: the network must
# change nothing at all.
echo "two hosts against two processes on one host (must be equal):"
status=0
$compare "$work/local" "$work/hosts" --tolerance 0 || status=1
# One process sums in another order; over hundreds of Adam steps that moves the numbers as much
# as another thread count moves them, so the losses are judged against that spread: the two
# hosts must be as close to one process as one process is to itself at 2 threads (within
# MULTIHOST_TOLERANCE times the spread).
train two-threads --threads 2 "$@" > /dev/null 2>&1
echo "two hosts against one process (losses, within ${MULTIHOST_TOLERANCE:=2} × one process's spread from 1 to 2 threads):"
$compare "$work/one" "$work/hosts" --losses-only --scale "$work/two-threads" --tolerance "$MULTIHOST_TOLERANCE" || status=1
[ $status = 0 ] && echo "check-multihost: passed" || echo "check-multihost: FAILED"
exit $status
