"""Time landmark masks on request, for side-by-side timing from another venv (benchmarks/speed.py).

Run inside benchmarks/peers/.venv: python serve.py [--threads 2]. Each stdin line `METHOD PATH` gets one stdout line: the
milliseconds that METHOD took to mask the decoded photo at PATH, or `error ...`. Methods: mediapipe (face detector +
face mesh, static_image_mode=True, as for unrelated photos), mediapipe_mesh (the mesh alone: tracking mode, the photo
shown once untimed so that the timed call skips the detector), dlib (HOG detector + 68 points).
"""
import argparse, os, sys, time

def mesh_alone():
    "f(rgb) -> face-oval mask from FaceMesh in tracking mode, after one untimed call on the same photo."
    import cv2, numpy as np, mediapipe as mp
    from landmark_masks import oval_ring
    fm = mp.solutions.face_mesh
    ring, mesh = np.array(oval_ring(fm.FACEMESH_FACE_OVAL)), fm.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=False)
    def compute(rgb):
        h, w = rgb.shape[:2]
        mask = np.zeros((h, w), np.uint8)
        for face in mesh.process(rgb).multi_face_landmarks or []:
            cv2.fillPoly(mask, [np.round(np.array([(p.x * w, p.y * h) for p in face.landmark])[ring]).astype(np.int32)], 255)
        return mask
    return compute

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0]); p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'DLIB_NUM_THREADS'): os.environ[var] = str(a.threads)
    import cv2
    from landmark_masks import dlib_masker, mediapipe_masker
    cv2.setNumThreads(a.threads)
    makers, methods = {'mediapipe': mediapipe_masker, 'mediapipe_mesh': mesh_alone, 'dlib': dlib_masker}, {}
    for line in sys.stdin:
        method, path = line.strip().split(' ', 1)
        try:
            if method not in methods: methods[method] = makers[method]()
            rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
            if method == 'mediapipe_mesh': methods[method](rgb)
            t0 = time.perf_counter(); methods[method](rgb); ms = (time.perf_counter() - t0) * 1000
            print(f'{ms:.3f}', flush=True)
        except Exception as e: print(f'error {type(e).__name__}: {e}', flush=True)

if __name__ == '__main__': main()
