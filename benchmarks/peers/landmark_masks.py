"""Landmark-based face masks (MediaPipe face mesh or dlib 68 points) for benchmarking.

Run inside benchmarks/peers/.venv (see setup_peers.sh):
    python landmark_masks.py --method mediapipe --list imgs.txt --out-dir out --timings t.json
"""
import argparse
import json
import os
import statistics
import time
from pathlib import Path


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", choices=["mediapipe", "dlib"], required=True)
    p.add_argument("--list", required=True, help="text file, one image path per line")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--timings", required=True, help="output JSON path")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args()


def oval_ring(edges):
    """Chain undirected edge pairs into one ordered closed ring of vertex ids."""
    adj = {}
    for a, b in edges:
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    start = min(adj)
    ring, prev, cur = [start], None, start
    while True:
        nxt = next(n for n in adj[cur] if n != prev)
        if nxt == start:
            break
        ring.append(nxt)
        prev, cur = cur, nxt
    assert len(ring) == len(adj), "face-oval edges are not a single ring"
    return ring


def mediapipe_masker():
    """Return f(rgb) -> mask filling the face-oval polygon of every detected face."""
    import cv2
    import numpy as np
    import mediapipe as mp

    fm = mp.solutions.face_mesh
    ring = np.array(oval_ring(fm.FACEMESH_FACE_OVAL))
    mesh = fm.FaceMesh(static_image_mode=True, max_num_faces=10, refine_landmarks=False)

    def compute(rgb):
        h, w = rgb.shape[:2]
        mask = np.zeros((h, w), np.uint8)
        res = mesh.process(rgb)
        for face in res.multi_face_landmarks or []:
            xy = np.array([(p.x * w, p.y * h) for p in face.landmark])[ring]
            cv2.fillPoly(mask, [np.round(xy).astype(np.int32)], 255)
        return mask

    return compute


def dlib_masker():
    """Return f(rgb) -> mask filling jaw 0-16 + brows 26..17 of every HOG-detected face."""
    import cv2
    import numpy as np
    import dlib
    import face_recognition_models

    dat = Path(face_recognition_models.__file__).parent / "models" / "shape_predictor_68_face_landmarks.dat"
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(dat))
    hull = list(range(0, 17)) + list(range(26, 16, -1))

    def compute(rgb):
        mask = np.zeros(rgb.shape[:2], np.uint8)
        for rect in detector(rgb, 1):
            shape = predictor(rgb, rect)
            pts = np.array([(shape.part(i).x, shape.part(i).y) for i in hull], np.int32)
            cv2.fillPoly(mask, [pts], 255)
        return mask

    return compute


def peak_rss_mb():
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited from the parent across exec)."""
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024.0


def main():
    args = parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "DLIB_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import cv2  # heavy imports only after the thread env vars are set

    cv2.setNumThreads(args.threads)
    compute = {"mediapipe": mediapipe_masker, "dlib": dlib_masker}[args.method]()

    paths = [Path(s.strip()) for s in Path(args.list).read_text().splitlines() if s.strip()]
    if not paths:
        raise SystemExit(f"no image paths in {args.list}")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    per_image, missed = {}, 0
    for i, path in enumerate(paths):
        bgr = cv2.imread(str(path))
        if bgr is None:
            raise SystemExit(f"cannot read image: {path}")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if i == 0:
            for _ in range(2):
                compute(rgb)
        t0 = time.perf_counter()
        mask = compute(rgb)
        per_image[path.stem] = (time.perf_counter() - t0) * 1000.0
        missed += not mask.any()
        cv2.imwrite(str(out_dir / f"{path.stem}.png"), mask)

    report = {
        "method": args.method,
        "per_image_ms": per_image,
        "median_ms": statistics.median(per_image.values()),
        "peak_rss_mb": peak_rss_mb(),
    }
    Path(args.timings).write_text(json.dumps(report, indent=1))
    print(f"{args.method}: {len(paths)} images, median {report['median_ms']:.1f} ms, "
          f"{missed} with no face, peak RSS {report['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
