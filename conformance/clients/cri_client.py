#!/usr/bin/python3
"""cri_client.py SOCKET COMMAND [ARG...] — a minimal Kubernetes CRI (runtime.v1) client for the
cri suite: crictl is not packaged in Debian. It speaks gRPC through Debian's python3-grpcio
and encodes the few protobuf messages it needs by hand (field numbers from the CRI API's
api.proto), so no generated code or .proto file is needed.

Commands (ids are printed on stdout):
  version                                  -> runtime name, version, API version
  runp NAME UID CGROUP_PARENT LOGDIR HANDLER -> pod sandbox id (host network)
  pstatus POD                              -> READY or NOTREADY
  create POD NAME IMAGE LOGPATH SANDBOX-ARGS... -- CMD... -> container id
         (SANDBOX-ARGS: the same NAME UID CGROUP_PARENT LOGDIR as runp)
  start ID | stop ID | rm ID | stopp POD | rmp POD
  status ID                                -> STATE EXIT_CODE (CREATED/RUNNING/EXITED/UNKNOWN)
  exec ID CMD...                           -> the command's stdout; exits with its exit code
"""
import sys

import grpc

RUNTIME = "/runtime.v1.RuntimeService/"


# --- protobuf wire format (varint = 0, length-delimited = 2) -------------------------------
def _varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_int(num, value):
    return _varint(num << 3) + _varint(value) if value else b""


def f_bytes(num, data):
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def f_str(num, s):
    return f_bytes(num, s.encode()) if s else b""


def f_msg(num, *parts):
    return f_bytes(num, b"".join(parts))


def decode(data):
    """Fields of one message: {number: [values]} (ints for varints, bytes otherwise)."""
    fields, i = {}, 0

    def varint():
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(data):
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 2:
            n = varint()
            value = data[i:i + n]
            i += n
        elif wire == 1:
            value = data[i:i + 8]
            i += 8
        elif wire == 5:
            value = data[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        fields.setdefault(num, []).append(value)
    return fields


def first(fields, num, default=b""):
    return fields.get(num, [default])[0]


# --- messages ------------------------------------------------------------------------------
NODE = 2  # NamespaceMode.NODE: the host network (a pod without CNI)


def sandbox_config(name, uid, cgroup_parent, logdir):
    metadata = f_msg(1, f_str(1, name), f_str(2, uid), f_str(3, "runtime-cli-test"), f_int(4, 0))
    ns_options = f_msg(1, f_int(1, NODE))  # LinuxSandboxSecurityContext.namespace_options
    linux = f_msg(8, f_str(1, cgroup_parent), f_msg(2, ns_options))
    # No hostname: with the host's network the pod has the host's UTS namespace too, and a
    # hostname there is refused (runc: "unable to set hostname without a private UTS namespace").
    return metadata + f_str(3, logdir) + linux


def call(channel, method, request):
    stub = channel.unary_unary(RUNTIME + method, request_serializer=None,
                               response_deserializer=None)
    return decode(stub(request, timeout=120))


def main(argv):
    sock, cmd, args = argv[1], argv[2], argv[3:]
    channel = grpc.insecure_channel("unix://" + sock)
    if cmd == "version":
        r = call(channel, "Version", f_str(1, "v1"))
        print(first(r, 2).decode(), first(r, 3).decode(), first(r, 4).decode())
    elif cmd == "runp":
        name, uid, cgp, logdir, handler = args
        r = call(channel, "RunPodSandbox",
                 f_bytes(1, sandbox_config(name, uid, cgp, logdir)) + f_str(2, handler))
        print(first(r, 1).decode())
    elif cmd == "pstatus":
        r = call(channel, "PodSandboxStatus", f_str(1, args[0]))
        state = first(decode(first(r, 1)), 3, 0)
        print(["READY", "NOTREADY"][state])
    elif cmd == "create":
        sep = args.index("--")
        pod, name, image, logpath = args[:4]
        sandbox = sandbox_config(*args[4:sep])
        command = args[sep + 1:]
        config = (f_msg(1, f_str(1, name)) + f_msg(2, f_str(1, image))
                  + b"".join(f_str(3, c) for c in command) + f_str(11, logpath))
        r = call(channel, "CreateContainer",
                 f_str(1, pod) + f_bytes(2, config) + f_bytes(3, sandbox))
        print(first(r, 1).decode())
    elif cmd == "start":
        call(channel, "StartContainer", f_str(1, args[0]))
    elif cmd == "stop":
        call(channel, "StopContainer", f_str(1, args[0]) + f_int(2, 10))
    elif cmd == "rm":
        call(channel, "RemoveContainer", f_str(1, args[0]))
    elif cmd == "stopp":
        call(channel, "StopPodSandbox", f_str(1, args[0]))
    elif cmd == "rmp":
        call(channel, "RemovePodSandbox", f_str(1, args[0]))
    elif cmd == "status":
        st = decode(first(call(channel, "ContainerStatus", f_str(1, args[0])), 1))
        state = first(st, 3, 0)
        print(["CREATED", "RUNNING", "EXITED", "UNKNOWN"][state], first(st, 7, 0))
    elif cmd == "exec":
        r = call(channel, "ExecSync",
                 f_str(1, args[0]) + b"".join(f_str(2, c) for c in args[1:]) + f_int(3, 60))
        sys.stdout.buffer.write(first(r, 1))
        sys.stderr.buffer.write(first(r, 2))
        return first(r, 3, 0)
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except grpc.RpcError as e:
        print(f"cri_client: {e.code().name}: {e.details()}", file=sys.stderr)
        sys.exit(1)
