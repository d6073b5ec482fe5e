"""Driven by python-client.test.ts: the official Python client (Debian python3-kubernetes) against
reddwarf. usage: python_client.py KUBECONFIG NAMESPACE. Prints one line per step; exit 0 on success."""
import sys
import threading

from kubernetes import client, config, watch

config.load_kube_config(config_file=sys.argv[1])
ns = sys.argv[2]
v1 = client.CoreV1Api()

names = [p.metadata.name for p in v1.list_namespaced_pod(ns).items]
print("list ok", len(names), flush=True)

body = {"metadata": {"name": "py1", "labels": {"app": "py"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
created = v1.create_namespaced_pod(ns, body)
assert created.metadata.name == "py1", created
print("create ok", created.metadata.resource_version, flush=True)

w = watch.Watch()
events = []


def stream():
    for ev in w.stream(v1.list_namespaced_pod, ns, label_selector="app=py", timeout_seconds=30):
        events.append((ev["type"], ev["object"].metadata.name))
        if ev["type"] == "DELETED":
            w.stop()


t = threading.Thread(target=stream)
t.start()
# The stream lists first; wait until the synthetic ADDED of py1 arrived.
for _ in range(200):
    if events:
        break
    threading.Event().wait(0.05)
v1.patch_namespaced_pod("py1", ns, {"metadata": {"labels": {"step": "patched"}}})
v1.delete_namespaced_pod("py1", ns)
t.join(40)
print("watch", events, flush=True)
assert ("ADDED", "py1") in events, events
assert ("MODIFIED", "py1") in events, events
assert ("DELETED", "py1") in events, events
try:
    v1.read_namespaced_pod("py1", ns)
    raise SystemExit("py1 still exists")
except client.exceptions.ApiException as e:
    assert e.status == 404, e
print("delete ok", flush=True)
