"""Speed: where the time of one photo goes, facemask's paths against the landmark tools, and each path's accuracy.
Writes <out>.json and <out>.md (default benchmarks/reports/speed). Everything is timed side by side in one run on the
same 512x512 photos, each round visiting the methods in turn, so that the machine's load falls on all of them alike:
absolute times on a shared machine are noisy, the ratios are the result.

    bash benchmarks/peers/setup_peers.sh      # MediaPipe and dlib in their own venv (timed through benchmarks/peers/serve.py)
    python benchmarks/speed.py                # about 8 minutes on 2 CPU cores
    python benchmarks/speed.py --rounds 1 --photos 5 --no-accuracy   # a quick look

Paths: the accurate model through PyTorch float32 (`--accurate`, BatchNorm folded), ONNX Runtime float32 (`facemask
export-onnx`) and ONNX Runtime int8 (`facemask export-onnx --int8`, calibrated on the first 32 training faces, the shared originals
of the prepared copies MODEL_CARD.md names: the CPU default until 2026-12-03), and the fast default (the shipped `facemask_mobilenetv2_fast_int8.onnx`: the same
network read out at stride 2, int8, the default on a CPU); that default fed 256 px instead of its 320 (`--smaller`: what a
smaller input would save and cost before a model is trained for it), and with `flip=True` (`facemask predict --flip`:
each photo and close-up also seen mirrored; `--no-flip` leaves it out); each through `FaceMasker.predict` (whole frame,
tiles, close-ups) and, but for the flip path, through the network alone (`model.predict_proba`: one pass, no
refinement). `--extra NAME=PATH` adds another checkpoint or ONNX file to the same rounds, e.g.

    python benchmarks/speed.py --extra fast_stride2_distilled_int8=runs/fast2_frozen_int8_pct.onnx
Accuracy: clean and held-out-hand validation faces, no-face photos (benchmarks/generalisation.py's sets and scoring).
Bigger photos (`--size-photos`, default 5): the CPU default with and without tiles against MediaPipe on the same faces
framed at 512x512, 1280x720, 1920x1080 and 4032x3024 (`framed`), with the network passes each path makes and the time
spent in them; the 512x512 crop is what the issue timed, the others are what video frames and phone photos are.
"""
import argparse, dataclasses, json, subprocess, sys, tempfile, time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent/'shared'/'data'
PEERS = REPO/'benchmarks'/'peers'
sys.path.insert(0, str(REPO/'benchmarks'))

def photos(n):
    "The first `n` validation faces (512x512 JPEG files, the size the issue timed)."
    ids = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['val'][:n]
    return [SHARED/'CelebAMask-HQ-mini'/'CelebA-HQ-img'/f'{i}.jpg' for i in ids]

def network(model):
    "f(float NCHW batch) -> (logits, face-presence probabilities: 1 without a presence head), of a FaceSegmenter or an OnnxSegmenter."
    import torch
    if hasattr(model, 'session'):
        def run(b):
            out = model.session.run(None, {'image': b})
            return out[0], torch.sigmoid(torch.from_numpy(out[1])).numpy() if len(out) > 1 else np.ones(len(b))
        return run
    def run(b):
        x = torch.from_numpy(b).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            if not model.config.presence: return model(x).float().numpy(), np.ones(len(b))
            logits, presence = model.forward_presence(x)
            return logits.float().numpy(), torch.sigmoid(presence).numpy()
    return run

def stage_times(masker, path, out):
    "Seconds per stage of one photo through `masker.predict`'s steps, file to file."
    from facemask.core import read_image, write_image
    from facemask.model import _letterbox
    clock, t, run = time.perf_counter, {}, network(masker.model)
    def step(name, fn):
        s = clock(); r = fn(); t[name] = clock() - s; return r
    image = step('decode JPEG', lambda: read_image(path))
    small = step('resize to the network', lambda: _letterbox(image, masker.model.config.input_size)[0])
    batch = step('normalise', lambda: small.transpose(2, 0, 1)[None].astype(np.float32) / 255)
    logits, presence = step('network, whole frame', lambda: run(batch))
    prob = step('sigmoid + upsample', lambda: cv2.resize(1 / (1 + np.exp(-logits[0, 0])), image.shape[1::-1], interpolation=cv2.INTER_LINEAR))
    prob = step('refine: tiles, close-up pass', lambda: masker._refine([image], [prob], presence)[0])
    mask = step('threshold', lambda: masker.to_mask(prob))
    step('write PNG', lambda: write_image(out, mask))
    return t

SIZES = ((512, 512), (1280, 720), (1920, 1080), (4032, 3024))  # the validation crop, video frames, a 12 MP phone photo

def framed(image, W, H):
    "A WxH frame: the photo scaled to the frame's height in its middle, on a blurred stretched copy of itself (a face the share of the frame a portrait photo or a video call gives it)."
    frame = cv2.resize(cv2.GaussianBlur(image, (0, 0), 8), (W, H), interpolation=cv2.INTER_LINEAR)
    x = (W - H) // 2
    frame[:, x:x + H] = cv2.resize(image, (H, H), interpolation=cv2.INTER_CUBIC)
    return frame

def counted(model):
    "Wrap `model.predict_proba` so that `model.passes` counts the images it is given and `model.seconds` the time it takes."
    run, model.passes, model.seconds = model.predict_proba, 0, 0.0
    def predict_proba(images, *args, **kwargs):
        s = time.perf_counter(); out = run(images, *args, **kwargs)
        model.passes += 1 if isinstance(images, np.ndarray) else len(images); model.seconds += time.perf_counter() - s
        return out
    model.predict_proba = predict_proba
    return model

def by_size(masker, images, peers, tmp, rounds):
    "Per frame size of `SIZES`: ms per photo, network passes and their ms of the CPU default (`masker`) and of the same without tiles (`levels=0`), and MediaPipe's ms, side by side on the same frames."
    from facemask.core import write_image
    from facemask.inference import FaceMasker
    paths = {'default': masker, 'no tiles (--levels 0)': FaceMasker(masker.model, levels=0, speck=masker.speck)}
    out = {}
    for W, H in SIZES:
        frames = [framed(im, W, H) for im in images]
        files = [tmp/f'frame{W}x{H}_{i}.png' for i in range(len(frames))]
        for f, fr in zip(files, frames): write_image(f, fr)
        peers.time('mediapipe', files[0])  # warm up
        runs = {k: {'ms': [], 'network_ms': [], 'passes': []} for k in paths}
        theirs = []
        for _ in range(rounds):
            for f, fr in zip(files, frames):
                for k, m in paths.items():
                    counted(m.model); s = time.perf_counter(); m.predict(fr); runs[k]['ms'].append(time.perf_counter() - s)
                    runs[k]['network_ms'].append(m.model.seconds); runs[k]['passes'].append(m.model.passes)
                    del m.model.predict_proba  # back to the class's method
                theirs.append(peers.time('mediapipe', f))
        out[f'{W}x{H}'] = {'mediapipe': summary(theirs)} | {k: {'ms': summary(v['ms']), 'network_ms': float(np.median(v['network_ms']) * 1000), 'passes': float(np.mean(v['passes']))} for k, v in runs.items()}
        print(f'{W}x{H}', out[f'{W}x{H}'], flush=True)
    return out

class Peers:
    "MediaPipe and dlib, timed by benchmarks/peers/serve.py in their own venv, one request at a time."
    def __init__(self, threads):
        py = PEERS/'.venv'/'bin'/'python'
        self.proc = subprocess.Popen([str(py), str(PEERS/'serve.py'), '--threads', str(threads)], cwd=PEERS, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) if py.exists() else None
    def time(self, method, path):
        if not self.proc: return None
        self.proc.stdin.write(f'{method} {path}\n'); self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        return float(reply) / 1000 if reply and not reply.startswith('error') else None
    def close(self):
        if self.proc: self.proc.stdin.close(); self.proc.wait()

def summary(seconds):
    v = np.array([s for s in seconds if s is not None]) * 1000
    return None if not len(v) else {'median_ms': float(np.median(v)), 'p10_ms': float(np.percentile(v, 10)), 'p90_ms': float(np.percentile(v, 90)), 'n': int(len(v))}

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--photos', type=int, default=20); p.add_argument('--rounds', type=int, default=5); p.add_argument('--threads', type=int, default=2)
    p.add_argument('--smaller', type=int, default=256, help='also the fast default fed at this input size instead of its own (no retraining; 0: not)')
    p.add_argument('--no-flip', action='store_true', help='leave out the fast default with flip=True')
    p.add_argument('--extra', action='append', default=[], metavar='NAME=PATH', help='also time and score this checkpoint or .onnx file (repeatable)')
    p.add_argument('--size-photos', type=int, default=5, help='photos per frame size in the sizes table (0: no table)')
    p.add_argument('--no-accuracy', action='store_true'); p.add_argument('--out', default=str(REPO/'benchmarks/reports/speed'))
    a = p.parse_args()
    import torch; torch.set_num_threads(a.threads); cv2.setNumThreads(a.threads)
    from facemask.core import read_image
    from facemask.inference import FaceMasker, default_weights, export_onnx
    from facemask.model import load_model
    tmp = Path(tempfile.mkdtemp())
    accurate = load_model(default_weights())
    calibration = [SHARED/'CelebAMask-HQ-mini'/'CelebA-HQ-img'/f'{i}.jpg' for i in json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['train'][:32]]
    paths = {'pytorch_fp32': default_weights(), 'onnx_fp32': export_onnx(accurate, tmp/'fp32.onnx'),
             'onnx_int8': export_onnx(accurate, tmp/'int8.onnx', calibration=[read_image(f) for f in calibration]), 'fast_default_int8': default_weights(accurate=False)}
    paths |= dict(e.split('=', 1) for e in a.extra)
    maskers = {k: FaceMasker.from_pretrained(v, device='cpu') for k, v in paths.items()}
    if a.smaller:  # what a smaller input would save, and cost, before any model is trained for it
        small = maskers[f'fast_default_int8_at_{a.smaller}'] = FaceMasker.from_pretrained(paths['fast_default_int8'], device='cpu')
        small.model.config = dataclasses.replace(small.model.config, input_size=a.smaller)
    if not a.no_flip: maskers['fast_default_int8_flip'] = FaceMasker.from_pretrained(paths['fast_default_int8'], device='cpu', flip=True)
    single = [k for k, m in maskers.items() if not m.flip]  # the network alone and the stages are those of one pass
    files = photos(a.photos)
    images = [read_image(f) for f in files]
    peers = Peers(a.threads)
    for m in maskers.values():  # warm up
        for im in images[:3]: m.predict(im)
    for f in files[:3]:
        for method in ('mediapipe', 'mediapipe_mesh', 'dlib'): peers.time(method, f)
    times = {f'{k} predict': [] for k in maskers} | {f'{k} network only': [] for k in single} | {'mediapipe detector + mesh': [], 'mediapipe mesh alone': [], 'dlib HOG + 68 points': []}
    stages = {k: [] for k in single}
    for r in range(a.rounds):
        for f, im in zip(files, images):
            for k, m in maskers.items():
                s = time.perf_counter(); m.predict(im); times[f'{k} predict'].append(time.perf_counter() - s)
                if k not in single: continue
                s = time.perf_counter(); m.model.predict_proba(im); times[f'{k} network only'].append(time.perf_counter() - s)
                stages[k].append(stage_times(m, f, tmp/'mask.png'))
            times['mediapipe detector + mesh'].append(peers.time('mediapipe', f))
            times['mediapipe mesh alone'].append(peers.time('mediapipe_mesh', f))
            if r == 0: times['dlib HOG + 68 points'].append(peers.time('dlib', f))  # 100+ ms: one round is enough
        print(f'round {r + 1}/{a.rounds}', flush=True)
    sizes = by_size(maskers['fast_default_int8'], images[:a.size_photos], peers, tmp, min(a.rounds, 3)) if a.size_photos else None
    peers.close()
    from noface_all import cpu_name
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, {a.threads} threads, PyTorch {torch.__version__}, ONNX Runtime {__import__("onnxruntime").__version__}',
           'photos': f'{len(files)} CelebAMask-HQ-mini validation faces, 512x512 JPEG', 'rounds': a.rounds,
           'latency': {k: summary(v) for k, v in times.items()},
           'stages_ms': {k: {s: float(np.median([t[s] for t in v]) * 1000) for s in v[0]} for k, v in stages.items()}}
    if sizes: rep['sizes'], rep['sizes_data'] = sizes, f"the first {a.size_photos} of the photos, each in the middle of a frame of each size (`framed`), {min(a.rounds, 3)} rounds"
    mp = rep['latency']['mediapipe detector + mesh']
    if mp:
        rep['ratio_to_mediapipe'] = {k: v['median_ms'] / mp['median_ms'] for k, v in rep['latency'].items() if v}
        mesh = rep['latency']['mediapipe mesh alone']
        rep['ratio_to_mediapipe_mesh'] = {k: v['median_ms'] / mesh['median_ms'] for k, v in rep['latency'].items() if v and mesh}
    if not a.no_accuracy:
        from generalisation import load, score
        d = load(argparse.Namespace(data=str(SHARED/'CelebAMask-HQ-mini'), hands=str(SHARED/'hands'), noface=str(SHARED/'no-face'), multipose=str(SHARED/'multipose'), limit=None))
        rep['accuracy'] = {}
        for k, m in maskers.items():
            r, _ = score(m, d)
            rep['accuracy'][k] = {'clean_iou': r['clean']['pooled_iou'], 'hands_iou': r['hands']['pooled_iou'], 'hand_px_called_face': r['hands']['hand_as_face'],
                                  'noface_photos_with_face_px': r['no_face']['all']['photos_with_face_px'], 'noface_pixels_called_face': r['no_face']['all']['pixels_called_face'],
                                  'noface_animal_photos_with_face_px': r['no_face']['animal_photos_with_face_px']}
            print(k, rep['accuracy'][k], flush=True)
        rep['accuracy_data'] = f"{len(d['ids'])} validation faces clean and with a held-out hand (configs/split_celebamask_mini.json, split_hands.json), {len(d['noface'])} held-out no-face photos (configs/split_noface.json)"
    out = Path(a.out)
    out.with_suffix('.json').write_text(json.dumps(rep, indent=1))
    md = out.with_suffix('.md')
    old = md.read_text() if md.exists() else ''
    md.write_text(markdown(rep) + (old[old.index('\n## Reading'):] if '\n## Reading' in old else ''))  # the reading is written by hand
    print(md.read_text())

def markdown(r):
    lat, L = r['latency'], []
    L += ['# Speed', '', f"{r['date']}; {r['hardware']}; {r['photos']}; {r['rounds']} rounds, each visiting every method in turn on every photo. "
          'Times are per photo from a decoded RGB array (decoding and writing are in the stage table). Written by `benchmarks/speed.py`.', '',
          '## Latency, side by side', '', '| method | median ms | p10 ms | p90 ms | x MediaPipe detector + mesh | x MediaPipe mesh alone |', '|---|---|---|---|---|---|']
    for k, v in lat.items():
        if not v: L.append(f'| {k} | not run | | | | |'); continue
        ratio = lambda key: f"{r[key][k]:.2f}" if key in r and k in r[key] else '-'
        L.append(f"| {k} | {v['median_ms']:.1f} | {v['p10_ms']:.1f} | {v['p90_ms']:.1f} | {ratio('ratio_to_mediapipe')} | {ratio('ratio_to_mediapipe_mesh')} |")
    names = list(r['stages_ms'])
    L += ['', '## Where the time goes: one photo, file to file (median ms per stage)', '', '| stage | ' + ' | '.join(names) + ' |', '|---|' + '---|' * len(names)]
    for s in r['stages_ms'][names[0]]: L.append(f'| {s} | ' + ' | '.join(f"{r['stages_ms'][n][s]:.1f}" for n in names) + ' |')
    L.append('| total | ' + ' | '.join(f"{sum(r['stages_ms'][n].values()):.1f}" for n in names) + ' |')
    if 'sizes' in r:
        L += ['', '## Bigger photos: the CPU default against MediaPipe detector + mesh by frame size', '',
              f"{r['sizes_data']}; ms per photo from a decoded RGB array, the mask at the frame's size. Passes: photos and crops through the network (whole frame, tiles, close-ups).", '',
              '| frame | path | median ms | p90 ms | network passes per photo | ms in those passes | ms outside them | x MediaPipe |', '|---|---|---|---|---|---|---|---|']
        for size, v in r['sizes'].items():
            m = v['mediapipe']
            if m: L.append(f"| {size} | MediaPipe detector + mesh | {m['median_ms']:.1f} | {m['p90_ms']:.1f} | | | | 1.00 |")
            for k, f in ((k, f) for k, f in v.items() if k != 'mediapipe'):
                L.append(f"| {size} | {k} | {f['ms']['median_ms']:.1f} | {f['ms']['p90_ms']:.1f} | {f['passes']:.2f} | {f['network_ms']:.1f} | {f['ms']['median_ms'] - f['network_ms']:.1f} | "
                         + (f"{f['ms']['median_ms'] / m['median_ms']:.2f} |" if m else '- |'))
    if 'accuracy' in r:
        L += ['', '## Accuracy of each path', '', r['accuracy_data'] + '; `FaceMasker.predict` on CPU.', '',
              '| path | clean IoU | hands IoU | hand px called face | no-face photos with face px | no-face px called face | animal photos with face px |', '|---|---|---|---|---|---|---|']
        for k, v in r['accuracy'].items():
            L.append(f"| {k} | {v['clean_iou']:.4f} | {v['hands_iou']:.4f} | {v['hand_px_called_face']:.2%} | {v['noface_photos_with_face_px']:.1%} | {v['noface_pixels_called_face']:.3%} | {v['noface_animal_photos_with_face_px']} |")
    return '\n'.join(L) + '\n'

if __name__ == '__main__': main()
