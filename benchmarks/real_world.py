"""Real-world inference on CPU: faces of any size in wide frames, frames with no face, flicker and lag on clips,
latency (PyTorch with and without BatchNorm folded, ONNX Runtime) and folder throughput (batch sizes and background decoding; GPU rows where there is one).

Faces and their ground truth: the 160 validation faces of CelebAMask-HQ-mini (configs/split_celebamask_mini.json 'val',
prepared into data/bench-prepared); no-face photos: the desk photos of ../shared/data/hands (desk_*.jpg). Everything
generated from them is seeded. Writes benchmarks/reports/real_world.md and .json.

    python benchmarks/real_world.py               # ~5 min on 2 CPU cores
    python benchmarks/real_world.py --weights other.pt --baseline facemask/weights/facemask_mobilenetv2.pt --out /tmp/rw
        # another checkpoint; the latency table then also times the baseline, alternating with it
"""
import argparse, glob, json, os, shutil, statistics, tempfile, time
from pathlib import Path

import cv2
import numpy as np
import torch

from facemask.core import read_image, write_image
from facemask.data import prepare
from facemask.inference import FaceMasker, default_weights, export_onnx, face_regions, smooth_step
from facemask.model import load_model

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent/'shared'/'data'
BUCKETS = ((60, 120), (120, 250), (250, 450), (450, 701))  # side of the pasted 512x512 face photo, px

# ---------------------------------------------------------------- data
def val_faces(data):
    "(image, mask) of the validation faces at 512x512."
    ids = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['val']
    prepared = prepare(data, REPO/'data'/'bench-prepared')
    return [(read_image(prepared/'images'/f'{i}.jpg'), cv2.imread(str(prepared/'masks'/f'{i}.png'), cv2.IMREAD_GRAYSCALE)) for i in ids]

def texture(rng, h, w):
    "A generated no-face texture: smooth colour noise, stripes, skin-coloured mottling or fine noise."
    kind = rng.integers(4)
    if kind == 0: t = cv2.resize(rng.uniform(0, 255, (h // 64 + 2, w // 64 + 2, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    elif kind == 1:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        f, a = rng.uniform(0.01, 0.1, 3), rng.uniform(0, np.pi, 3)
        t = np.dstack([127 + 120 * np.sin(f[c] * (xx * np.cos(a[c]) + yy * np.sin(a[c]))) for c in range(3)])
    elif kind == 2:
        skin = np.array([rng.uniform(150, 230), rng.uniform(100, 170), rng.uniform(80, 140)], np.float32)
        t = skin + cv2.resize(rng.normal(0, 25, (h // 32 + 2, w // 32 + 2)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)[..., None]
    else: t = rng.normal(128, 50, (h, w, 3))
    return np.clip(t + rng.normal(0, 4, (h, w, 3)), 0, 255).astype(np.uint8)

def collage(rng, faces, backgrounds, W=1280, H=720, sides=(60, 700)):
    "A WxH frame with 1-5 face photos (side log-uniform in `sides`, no overlap) on a desk photo or texture; its truth and who owns each pixel."
    bg = backgrounds[rng.integers(len(backgrounds))] if rng.random() < 0.5 else texture(rng, H, W)
    img = cv2.GaussianBlur(cv2.resize(bg, (W, H), interpolation=cv2.INTER_LINEAR), (0, 0), 2)
    gt, owner, placed = np.zeros((H, W), np.uint8), np.full((H, W), -1, np.int16), []
    for j in rng.choice(len(faces), rng.integers(1, 6), replace=False):
        s = int(np.exp(rng.uniform(*np.log(sides))))
        for _ in range(50):
            x, y = int(rng.integers(0, W - s + 1)), int(rng.integers(0, H - s + 1))
            if all(x + s <= a or a + b <= x or y + s <= c or c + b <= y for a, c, b in placed): break
        else: continue  # no room left
        im, m = faces[j]
        img[y:y + s, x:x + s] = cv2.resize(im, (s, s), interpolation=cv2.INTER_AREA)
        gt[y:y + s, x:x + s] = np.where(cv2.resize(m, (s, s), interpolation=cv2.INTER_AREA) > 127, 255, 0)
        owner[y:y + s, x:x + s] = len(placed); placed.append((x, y, s))
    return img, gt, owner, [s for _, _, s in placed]

def away_from_faces(rng, faces, side=128, gap=16):
    "Square crops of the face photos that stay `gap` px away from any face pixel (hair, clothes, background)."
    out = []
    for im, m in faces:
        far = (cv2.dilate(m, np.ones((2 * gap + 1, 2 * gap + 1), np.uint8)) == 0).astype(np.uint8)
        far = cv2.erode(far, np.ones((side, side), np.uint8), anchor=(0, 0), borderValue=0)[:im.shape[0] - side + 1, :im.shape[1] - side + 1]
        ys, xs = np.nonzero(far)
        if len(ys): k = rng.integers(len(ys)); out.append(im[ys[k]:ys[k] + side, xs[k]:xs[k] + side])
    return out

def jitter(rng, image):
    "A video frame's sensor noise and compression: Gaussian noise (sigma 3) and a JPEG round trip at quality 70-95."
    noisy = np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode('.jpg', noisy, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 96))])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)

def pan_clip(rng, face, mask, bg, speed, n):
    "A 240 px face photo moving `speed` px a frame across `bg` (640x360) for `n` frames, each with its own `jitter`; and each frame's truth."
    frames, truth = [], []
    for k in range(n):
        x = (40 + k * speed) % (640 - 240)
        f, g = bg.copy(), np.zeros((360, 640), bool)
        f[60:300, x:x + 240] = cv2.resize(face, (240, 240), interpolation=cv2.INTER_AREA)
        g[60:300, x:x + 240] = cv2.resize(mask, (240, 240), interpolation=cv2.INTER_AREA) > 127
        frames.append(jitter(rng, f)); truth.append(g)
    return frames, truth

# ---------------------------------------------------------------- methods
def previous_proba(masker, image):
    "The coarse-to-fine method before this benchmark (whole frame, then crops only where they double resolution), kept for the comparison."
    coarse = masker.model.predict_proba(image)
    H, W = coarse.shape
    out = np.zeros_like(coarse)
    boxes = face_regions(coarse, min_area=max(12, H * W / masker.model.config.input_size ** 2 * 4))
    close = [b for b in boxes if max(b[2] - b[0], b[3] - b[1]) <= max(H, W) / 2]
    for x0, y0, x1, y1 in set(boxes) - set(close): np.maximum(out[y0:y1, x0:x1], coarse[y0:y1, x0:x1], out=out[y0:y1, x0:x1])
    for (x0, y0, x1, y1), p in zip(close, masker.model.predict_proba([image[y0:y1, x0:x1] for x0, y0, x1, y1 in close]) if close else []):
        np.maximum(out[y0:y1, x0:x1], p, out=out[y0:y1, x0:x1])
    return out

def counting(model):
    "Count the images (whole frames, tiles, crops) that go through `model.predict_proba`."
    inner, model.passes = model.predict_proba, 0
    def predict_proba(images, *a, **k):
        model.passes += 1 if isinstance(images, np.ndarray) else len(images)
        return inner(images, *a, **k)
    model.predict_proba = predict_proba
    return model

def methods(model):
    m = lambda **k: FaceMasker(model, **k).predict_proba
    return {'whole frame only (refine=False)': m(refine=False),
            'before: whole frame + crops that double resolution': lambda im: previous_proba(FaceMasker(model), im),
            'now, levels=0: crops wherever 20%+ sharper': m(levels=0),
            'now, levels=1 (default): + tiles a quarter of the frame': m(levels=1)}

# ---------------------------------------------------------------- measurements
def iou(a, b): return float((a & b).sum() / max(1, (a | b).sum()))

def wide_frames(model, frames):
    out = {}
    for name, proba in methods(model).items():
        model.passes, I, U, per, fp, ms = 0, 0, 0, [], [], []
        buckets = {f'{lo}-{hi - 1}': {'inter': 0, 'union': 0, 'faces': 0, 'found': 0} for lo, hi in BUCKETS}
        for img, gt, owner, sides in frames:
            t0 = time.perf_counter(); p = proba(img) > 0.5; ms.append((time.perf_counter() - t0) * 1000)
            g = gt > 127
            I += int((p & g).sum()); U += int((p | g).sum()); per.append(iou(p, g))
            fp.append(float(p[owner < 0].mean()))
            for k, s in enumerate(sides):
                r, b = owner == k, next(f'{lo}-{hi - 1}' for lo, hi in BUCKETS if lo <= s < hi)
                bk = buckets[b]
                bk['inter'] += int((p & g & r).sum()); bk['union'] += int(((p | g) & r).sum()); bk['faces'] += 1
                bk['found'] += int(iou(p & r, g & r) > 0.5)
        out[name] = {'pooled_iou': I / U, 'mean_iou_per_frame': float(np.mean(per)), 'face_px_off_the_faces': float(np.mean(fp)),
                     'passes_per_frame': model.passes / len(frames), 'median_ms_per_frame': statistics.median(ms),
                     'buckets': {b: {'pooled_iou': v['inter'] / max(1, v['union']), 'faces': v['faces'], 'found': v['found']} for b, v in buckets.items()}}
        print('wide', name, round(out[name]['pooled_iou'], 4), round(out[name]['mean_iou_per_frame'], 4), flush=True)
    return out

def no_face(model, sources):
    out = {}
    for name, proba in methods(model).items():
        for src, images in sources.items():
            f = np.array([(proba(im) > 0.5).mean() for im in images])
            out.setdefault(name, {})[src] = {'images': len(images), 'face_px': float(f.mean()), 'images_over_1pct': float((f > 0.01).mean()), 'max': float(f.max())}
        print('no face', name, {k: round(v['face_px'], 5) for k, v in out[name].items()}, flush=True)
    return out

def smoothed(probs, strength):
    "Masks as `predict_video` makes them with `smoothing=strength` (0: none)."
    prev, masks = None, []
    for p in probs:
        prev = smooth_step(prev, p, strength) if strength else p
        masks.append(prev > 0.5)
    return masks

def flicker(masker, faces, hopper, rng, strengths=(0, 0.3, 0.6, 0.8, 0.9), n=30):
    face, mask = faces[0]
    wide = texture(rng, 720, 1280); wide[300:460, 900:1060] = cv2.resize(face, (160, 160), interpolation=cv2.INTER_AREA)
    stills = {'still: grace_hopper.jpg 512x600': hopper, 'still: a 160 px face photo in a 1280x720 frame': wide}
    out = {'still': {}, 'pan': {}}
    for name, image in stills.items():
        probs = [masker.predict_proba(jitter(rng, image)) for _ in range(n)]
        out['still'][name] = {}
        for s in strengths:
            m = smoothed(probs, s)
            flips = [int((a != b).sum()) for a, b in zip(m, m[1:])]
            out['still'][name][str(s)] = {'flipped_px_per_frame': float(np.mean(flips) / m[0].size), 'flipped_share_of_face': float(np.sum(flips) / sum(int(x.sum()) for x in m[1:]))}
        print('flicker', name, {k: round(v['flipped_px_per_frame'], 5) for k, v in out['still'][name].items()}, flush=True)
    bg = texture(rng, 360, 640)
    for speed in (4, 16):
        frames, truth = pan_clip(rng, face, mask, bg, speed, n)
        probs = [masker.predict_proba(f) for f in frames]
        name = f'pan: 240 px face photo, {speed} px/frame across 640x360'
        out['pan'][name] = {str(s): {'mean_iou': float(np.mean([iou(m, g) for m, g in zip(smoothed(probs, s), truth)]))} for s in strengths}
        print('lag', name, {k: round(v['mean_iou'], 4) for k, v in out['pan'][name].items()}, flush=True)
    return out

def onnx_agreement(masker, onnx_masker, faces):
    differ = [float((masker.predict(im) != onnx_masker.predict(im)).mean()) for im, _ in faces]
    return {'faces': len(faces), 'mean_px_differ': float(np.mean(differ)), 'max_px_differ': float(np.max(differ))}

def latency(maskers, images, warmup=50, rounds=5, per_round=20):
    "Median ms of FaceMasker.predict per image, backends alternating in rounds so that both see the same machine load."
    for m in maskers.values():
        for k in range(warmup): m.predict(images[k % len(images)])
    times = {n: [] for n in maskers}
    for r in range(rounds):
        for n, m in maskers.items():
            for k in range(per_round):
                im = images[(r * per_round + k) % len(images)]
                t0 = time.perf_counter(); m.predict(im); times[n].append((time.perf_counter() - t0) * 1000)
    return {n: {'median_ms': statistics.median(t), 'p10_ms': float(np.percentile(t, 10)), 'p90_ms': float(np.percentile(t, 90)),
                'round_medians_ms': [statistics.median(t[i:i + per_round]) for i in range(0, len(t), per_round)], 'calls': len(t), 'warmup_calls': warmup}
            for n, t in times.items()}

def throughput(maskers, files, tmp, rounds=3):
    "Images/s of `mask_files` on a folder, configurations alternating."
    folder = tmp/'folder'; folder.mkdir()
    for f in files: shutil.copyfile(f, folder/f.name)
    decode, write = [], []
    for f in files:
        t0 = time.perf_counter(); im = read_image(folder/f.name); t1 = time.perf_counter()
        write_image(tmp/'probe.png', np.zeros(im.shape[:2], np.uint8)); decode.append((t1 - t0) * 1000); write.append((time.perf_counter() - t1) * 1000)
    rates = {n: [] for n in maskers}
    for r in range(rounds):
        for n, (m, workers) in maskers.items():
            t0 = time.perf_counter()
            s = m.mask_files([folder], tmp/'out', overwrite=True, workers=workers, progress=False, log=lambda msg: None)
            assert len(s['written']) == len(files), s
            rates[n].append(len(files) / (time.perf_counter() - t0))
    return {'decode_ms': statistics.median(decode), 'write_mask_ms': statistics.median(write),
            **{n: {'images_per_s': statistics.median(v), 'runs': v, 'images': len(files)} for n, v in rates.items()}}

# ---------------------------------------------------------------- report
def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--frames', type=int, default=30); p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out', default=str(REPO/'benchmarks/reports/real_world'))
    p.add_argument('--weights', help='checkpoint (.pt) to measure (default: the shipped model); its ONNX export is made in the run')
    p.add_argument('--baseline', help='a second checkpoint (.pt) timed beside it in the latency table')
    a = p.parse_args()
    for flag, path in (('--weights', a.weights), ('--baseline', a.baseline)):
        if path and Path(path).suffix.lower() == '.onnx':
            p.error(f'{flag} {path}: an ONNX file; give the checkpoint (.pt) it was exported from (the PyTorch rows need it; fast_default.py and speed.py time ONNX files)')
        if path and not Path(path).exists(): p.error(f'{flag} {path}: no such file')
    torch.set_num_threads(a.threads)
    load0, t_start = os.getloadavg(), time.time()
    faces = val_faces(a.data)
    desks = [read_image(f) for f in sorted(glob.glob(str(Path(a.hands)/'images'/'desk_*.jpg')))]
    hopper = read_image(REPO/'examples'/'grace_hopper.jpg')
    rng = np.random.default_rng(0)
    frames = [collage(rng, faces, desks) for _ in range(a.frames)]
    model = counting(FaceMasker.from_pretrained(a.weights, device='cpu', accurate=not a.weights).model)
    r = {'date': time.strftime('%Y-%m-%d'), 'weights': Path(a.weights or default_weights()).name,
         'data': f'{len(faces)} validation faces of CelebAMask-HQ-mini (configs/split_celebamask_mini.json), {len(desks)} desk photos (../shared/data/hands/images/desk_*.jpg)',
         'hardware': {'cpu': next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), 'unknown'),
                      'threads': a.threads, 'torch': torch.__version__}}
    r['face_height_over_photo_side'] = float(np.mean([np.ptp(np.nonzero(m.any(1))[0]) / m.shape[0] for _, m in faces]))
    r['wide'] = wide_frames(model, frames)
    r['wide_frames'] = {'frames': len(frames), 'faces': sum(len(f[3]) for f in frames), 'size': '1280x720'}
    sources = {'desk photos 384x288': desks, 'desk photos upscaled to 1152x864': [cv2.resize(d, (1152, 864), interpolation=cv2.INTER_CUBIC) for d in desks[:20]],
               'generated textures 1280x720': [texture(rng, 720, 1280) for _ in range(20)],
               'CelebA crops 128x128 away from the face': away_from_faces(rng, faces[:60])[:40]}
    r['no_face'] = no_face(model, sources)
    masker = FaceMasker(model)
    r['flicker'] = flicker(masker, faces, hopper, rng)

    import onnxruntime
    tmp = Path(tempfile.mkdtemp())
    onnx_masker = FaceMasker.from_pretrained(export_onnx(model, tmp/'facemask.onnx'), device='cpu')
    r['hardware']['onnxruntime'] = onnxruntime.__version__
    r['onnx_agreement'] = onnx_agreement(masker, onnx_masker, faces)
    print('onnx agreement', r['onnx_agreement'], flush=True)
    backends = {'PyTorch': masker, 'PyTorch, BatchNorm not folded': FaceMasker(load_model(a.weights or default_weights())), 'ONNX Runtime': onnx_masker}
    if a.baseline:
        base = FaceMasker.from_pretrained(a.baseline, device='cpu', accurate=not a.baseline)
        backends |= {f'PyTorch, baseline {Path(a.baseline).name}': base,
                     f'ONNX Runtime, baseline {Path(a.baseline).name}': FaceMasker.from_pretrained(export_onnx(base.model, tmp/'baseline.onnx'), device='cpu')}
    r['latency'] = latency(backends, [im for im, _ in faces[:40]])
    print('latency', {n: round(v['median_ms'], 1) for n, v in r['latency'].items()}, flush=True)
    files = [REPO/'data'/'bench-prepared'/'images'/f'{i}.jpg' for i in json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['val'][:100]]
    batched = lambda m, bs: FaceMasker(m.model, batch_size=bs)
    configs = {'PyTorch, one image at a time, decoding in the main thread (batch 1, workers 0)': (batched(masker, 1), 0),
               'PyTorch, batch 4, 2 decoding threads': (batched(masker, 4), 2),
               'PyTorch, batch 8, 2 decoding threads (the default)': (batched(masker, 8), 2),
               'ONNX Runtime, batch 1, workers 0': (batched(onnx_masker, 1), 0),
               'ONNX Runtime, batch 4, 2 decoding threads': (batched(onnx_masker, 4), 2),
               'ONNX Runtime, batch 8, 2 decoding threads (the default)': (batched(onnx_masker, 8), 2)}
    if torch.cuda.is_available():
        r['hardware']['gpu'] = torch.cuda.get_device_name()
        gpu = FaceMasker.from_pretrained(a.weights, device='cuda')
        configs.update({f'PyTorch on the GPU, batch {bs}, {w} decoding threads': (batched(gpu, bs), w) for bs, w in ((1, 0), (8, 2), (32, 4), (32, 8))})
    r['throughput'] = throughput(configs, files, tmp)
    print('throughput', r['throughput'], flush=True)
    shutil.rmtree(tmp)
    r['load_average'] = {'start': load0, 'end': os.getloadavg()}
    r['seconds'] = time.time() - t_start
    out = Path(a.out)
    out.with_suffix('.json').write_text(json.dumps(r, indent=1))
    md = out.with_suffix('.md')
    old = md.read_text() if md.exists() else ''
    hand = old.rfind('\n## ', 0, old.find('(added by hand')) if '(added by hand' in old else -1
    md.write_text(markdown(r) + (old[hand:] if hand >= 0 else ''))  # sections added by hand are kept across reruns
    print(out.with_suffix('.md').read_text())

def markdown(r):
    hw = r['hardware']
    wide = ['| method | IoU pooled | IoU mean/frame | ' + ' | '.join(f'IoU (found/faces) {b} px' for b in next(iter(r['wide'].values()))['buckets']) + ' | face px off the faces | model passes/frame | median ms/frame |',
            '|' + '---|' * (5 + len(BUCKETS))]
    for n, v in r['wide'].items():
        bk = ' | '.join(f"{b['pooled_iou']:.3f} ({b['found']}/{b['faces']})" for b in v['buckets'].values())
        wide.append(f"| {n} | {v['pooled_iou']:.4f} | {v['mean_iou_per_frame']:.4f} | {bk} | {v['face_px_off_the_faces']:.3%} | {v['passes_per_frame']:.1f} | {v['median_ms_per_frame']:.0f} |")
    srcs = list(next(iter(r['no_face'].values())))
    nf = ['| method | ' + ' | '.join(f"{s} ({r['no_face'][next(iter(r['no_face']))][s]['images']})" for s in srcs) + ' |', '|' + '---|' * (len(srcs) + 1)]
    for n, v in r['no_face'].items():
        nf.append(f'| {n} | ' + ' | '.join(f"{v[s]['face_px']:.3%} ({v[s]['images_over_1pct']:.0%}; max {v[s]['max']:.1%})" for s in srcs) + ' |')
    strengths = list(next(iter(r['flicker']['still'].values())))
    fl = ['| clip | ' + ' | '.join('no smoothing' if s == '0' else f'smoothing {s}' for s in strengths) + ' |', '|' + '---|' * (len(strengths) + 1)]
    for n, v in r['flicker']['still'].items():
        fl.append(f'| {n}: pixels flipping per frame (share of face area) | ' + ' | '.join(f"{v[s]['flipped_px_per_frame']:.3%} ({v[s]['flipped_share_of_face']:.2%})" for s in strengths) + ' |')
    for n, v in r['flicker']['pan'].items():
        fl.append(f'| {n}: mean IoU per frame | ' + ' | '.join(f"{v[s]['mean_iou']:.4f}" for s in strengths) + ' |')
    lat = ['| backend | median ms | p10 ms | p90 ms | medians of the 5 rounds, ms |', '|---|---|---|---|---|'] + [
        f"| {n} | {v['median_ms']:.1f} | {v['p10_ms']:.1f} | {v['p90_ms']:.1f} | {', '.join(f'{x:.1f}' for x in v['round_medians_ms'])} |" for n, v in r['latency'].items()]
    thr = ['| configuration | images/s (median) | runs |', '|---|---|---|'] + [
        f"| {n} | {v['images_per_s']:.1f} | {', '.join(f'{x:.1f}' for x in v['runs'])} |" for n, v in r['throughput'].items() if isinstance(v, dict)]
    oa, wf = r['onnx_agreement'], r['wide_frames']
    tp = next(v for v in r['throughput'].values() if isinstance(v, dict))
    return f"""# Real-world inference: any photo, any video, on CPU

Measured {r['date']} by `benchmarks/real_world.py` ({r['seconds'] / 60:.1f} min). Model: `{r['weights']}` through `FaceMasker`. Data: {r['data']}; all
generated frames are seeded. Hardware: {hw['cpu']}, {hw['threads']} threads (torch {hw['torch']}, onnxruntime {hw.get('onnxruntime', '?')}); every number is a CPU number except the GPU rows of the folder table.
The machine was shared with other jobs during the run (load average {r['load_average']['start'][0]:.1f} at the start, {r['load_average']['end'][0]:.1f} at the end),
so times are noisy: compare rows of one table (measured side by side, interleaved), not across reports.

## Faces of any size in wide frames

{wf['frames']} frames of {wf['size']}, each with 1 to 5 validation face photos ({wf['faces']} in all) pasted without overlap at a log-uniform
side of 60 to 700 px on a blurred desk photo or a generated texture; the ground truth is composed the same way. A face
(the mask's height) is about {r['face_height_over_photo_side']:.2f} of its photo's side, so faces run from about {60 * r['face_height_over_photo_side']:.0f} px to most of the frame's height.
Per size bucket: IoU pooled over the faces' squares, and how many faces have IoU > 0.5 in their square ("found").
"Face px off the faces": share of the pixels outside every pasted photo that are called face. `levels=2` would add
tiles a sixteenth of the frame's side, but tiles never upsample the photo, so it changes only photos of 4096 px and more.

{chr(10).join(wide)}

## Frames with no face

Share of pixels called face (in brackets: share of images with more than 1% face pixels; the worst image).

{chr(10).join(nf)}

## Flicker and lag on clips

Still clips: the same photo for 30 frames, each with its own sensor noise (Gaussian, sigma 3) and JPEG re-encoding
(quality 70-95); a perfectly stable mask flips no pixel. Pans: a 240 px face photo moving across a 640x360 texture
(with the same noise), scored against each frame's own ground truth: smoothing that lags loses IoU. Smoothing is
`smooth_step(prev, prob, strength)` as `predict_video(smoothing=strength)` applies it; `predict_video`'s default is 0.8.

{chr(10).join(fl)}

## Latency on CPU: PyTorch (BatchNorm folded or not) vs ONNX Runtime

`FaceMasker.predict` (defaults) on 512x512 validation faces, {hw['threads']} threads for each backend; {r['latency']['PyTorch']['warmup_calls']} warm-up calls each, then 5
rounds of 20 calls alternating between the backends. `PyTorch` is `FaceMasker.from_pretrained`, which folds each BatchNorm into the
convolution before it (`fuse_batchnorm`); `BatchNorm not folded` is the same checkpoint straight from `load_model`. The ONNX file is `facemask export-onnx` (PyTorch's torch.export-based ONNX exporter) of the same weights;
on all {oa['faces']} validation faces its masks differ from PyTorch's in {oa['mean_px_differ']:.4%} of pixels on average (worst face: {oa['max_px_differ']:.4%}).

{chr(10).join(lat)}

## Folder throughput

`mask_files` (masks only, overwrite) on a folder of {tp['images']} validation JPEGs (512x512), configurations alternating, {len(tp['runs'])} runs each, on the CPU above{' and on ' + hw['gpu'] if 'gpu' in hw else ' (no GPU on this machine: the script adds GPU rows where there is one)'}.
`batch` is `FaceMasker(batch_size=...)` (`--batch-size`): the whole-frame passes, tiles and close-ups of that many
images share network passes. Decoding one file takes {r['throughput']['decode_ms']:.1f} ms (median) and writing its mask {r['throughput']['write_mask_ms']:.1f} ms,
so on {hw['threads']} cores the decoding threads have little to take off the model, whose own {hw['threads']} threads keep the CPU busy.

{chr(10).join(thr)}
"""

if __name__ == '__main__':
    main()
