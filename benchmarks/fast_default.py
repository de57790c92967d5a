"""The CPU default and candidate fast models against the accurate model, outside the validation split's centred faces:
wide frames with faces of any size, frames without a face, flicker on still clips, and faces panning across a frame
(each of the first --pans validation faces, not one). Same seeded frames for every model, `FaceMasker` defaults.
Frames come from benchmarks/real_world.py's generators (validation faces of CelebAMask-HQ-mini, desk photos of
../shared/data/hands). Writes benchmarks/reports/fast_default.md and .json.

    python benchmarks/fast_default.py --models student_int8=runs/student_int8.onnx   # ~4 min a model on 2 CPU cores
    python benchmarks/fast_default.py --models "default_recheck_off=facemask/weights/facemask_mobilenetv2_fast_int8.onnx;recheck=0"
"""
import argparse, glob, json, time
from pathlib import Path

import numpy as np
import torch

from facemask.core import read_image
from facemask.inference import FaceMasker, default_weights
from generalisation import parse_spec
from real_world import REPO, SHARED, away_from_faces, collage, iou, jitter, pan_clip, smoothed, texture, val_faces

def wide(masker, frames):
    "Pooled IoU over the frames, and the share of pixels off the pasted photos called face."
    I = U = 0; off = []
    for img, gt, owner, _ in frames:
        p, g = masker.predict(img) > 0, gt > 127
        I += int((p & g).sum()); U += int((p | g).sum()); off.append(float(p[owner < 0].mean()))
    return {'pooled_iou': I / U, 'face_px_off_the_faces': float(np.mean(off))}

def no_face(masker, sources):
    "Per source: share of pixels called face and of images with any."
    out = {}
    for name, images in sources.items():
        f = np.array([(masker.predict(im) > 0).mean() for im in images])
        out[name] = {'images': len(images), 'face_px': float(f.mean()), 'images_with_face_px': int((f > 0).sum())}
    return out

def flicker(masker, clips, strengths):
    "Pixels flipping per frame on still clips (`clips`: name -> noisy frames of one photo)."
    out = {}
    for name, frames in clips.items():
        probs = [masker.predict_proba(f) for f in frames]
        out[name] = {str(s): float(np.mean([(a != b).mean() for a, b in zip(m, m[1:])])) for s in strengths for m in [smoothed(probs, s)]}
    return out

def pans(masker, clips, strengths):
    "Mean IoU per frame of each panning clip (`clips`: (frames, truths) per face)."
    out = {str(s): [] for s in strengths}
    for frames, truth in clips:
        probs = [masker.predict_proba(f) for f in frames]
        for s in strengths: out[str(s)].append(float(np.mean([iou(m, g) for m, g in zip(smoothed(probs, s), truth)])))
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--models', nargs='*', default=[], help="more NAME=SPEC beside the default and the accurate model: a checkpoint or .onnx file, and FaceMasker's options as in generalisation.py (PATH;recheck=0)")
    p.add_argument('--frames', type=int, default=30); p.add_argument('--pans', type=int, default=12, help='faces panned, each its own clip')
    p.add_argument('--threads', type=int, default=2); p.add_argument('--out', default=str(REPO/'benchmarks/reports/fast_default'))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t_start = time.time()
    maskers = {f'default ({default_weights(accurate=False).name})': FaceMasker.from_pretrained(device='cpu'),
               f'accurate ({default_weights().name}, --accurate)': FaceMasker.from_pretrained(device='cpu', accurate=True)}
    extra = dict(m.split('=', 1) for m in a.models)
    maskers |= {n: FaceMasker.from_pretrained(path, device='cpu', **kwargs) for n, (path, kwargs) in ((n, parse_spec(spec)) for n, spec in extra.items())}
    faces = val_faces(a.data)
    desks = [read_image(f) for f in sorted(glob.glob(str(Path(a.hands)/'images'/'desk_*.jpg')))]
    rng = np.random.default_rng(0)
    frames = [collage(rng, faces, desks) for _ in range(a.frames)]
    sources = {'desk photos 384x288': desks, 'generated textures 1280x720': [texture(rng, 720, 1280) for _ in range(20)],
               'CelebA crops 128x128 away from the face': away_from_faces(rng, faces[:60])[:40]}
    hopper = read_image(REPO/'examples'/'grace_hopper.jpg')
    still = {'grace_hopper.jpg 512x600': [jitter(rng, hopper) for _ in range(30)]}
    strengths = (0, 0.8)
    panning = {speed: [pan_clip(rng, *faces[k], texture(rng, 360, 640), speed, 30) for k in range(a.pans)] for speed in (4, 16)}
    r = {'date': time.strftime('%Y-%m-%d'), 'threads': a.threads, 'models': {}, 'extra_models': extra, 'faces_in_wide_frames': sum(len(f[3]) for f in frames),
         'cpu': next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), 'unknown')}
    for name, m in maskers.items():
        r['models'][name] = {'wide': wide(m, frames), 'no_face': no_face(m, sources), 'flicker': flicker(m, still, strengths),
                             'pan': {str(s): pans(m, c, strengths) for s, c in panning.items()}}
        print(name, json.dumps(r['models'][name]['wide']), flush=True)
    r['seconds'] = time.time() - t_start
    out = Path(a.out)
    out.with_suffix('.json').write_text(json.dumps(r, indent=1))
    out.with_suffix('.md').write_text(markdown(r, a))
    print(out.with_suffix('.md').read_text())

def markdown(r, a):
    names = list(r['models'])
    ref = names[1]  # the accurate model
    rows = ['| | ' + ' | '.join(names) + ' |', '|---|' + '---|' * len(names)]
    row = lambda label, f: rows.append(f'| {label} | ' + ' | '.join(f(r['models'][n]) for n in names) + ' |')
    row(f"wide 1280x720 frames ({a.frames} frames, {r['faces_in_wide_frames']} faces of 60-700 px): pooled IoU", lambda v: f"{v['wide']['pooled_iou']:.4f}")
    row('wide frames: pixels off the faces called face', lambda v: f"{v['wide']['face_px_off_the_faces']:.3%}")
    for src, s in r['models'][ref]['no_face'].items():
        row(f"no face, {src}: pixels called face (images with any, of {s['images']})", lambda v, src=src: f"{v['no_face'][src]['face_px']:.3%} ({v['no_face'][src]['images_with_face_px']})")
    for clip in r['models'][ref]['flicker']:
        for s in ('0', '0.8'):
            row(f'still clip, {clip}, smoothing {s}: pixels flipping per frame', lambda v, clip=clip, s=s: f"{v['flicker'][clip][s]:.3%}")
    for speed in r['models'][ref]['pan']:
        for s in ('0', '0.8'):
            row(f'{a.pans} faces of 240 px panning {speed} px/frame, smoothing {s}: mean IoU (worst face)',
                lambda v, speed=speed, s=s: f"{np.mean(v['pan'][speed][s]):.4f} ({min(v['pan'][speed][s]):.4f})")
    for speed in r['models'][ref]['pan']:
        for n in names[:1] + names[2:]:
            d = np.array(r['models'][n]['pan'][speed]['0']) - np.array(r['models'][ref]['pan'][speed]['0'])
            rows.append(f'| panning {speed} px/frame, no smoothing: {n} minus accurate, per face | mean {d.mean():+.4f}, median {np.median(d):+.4f}, '
                        f'{int((d < -0.01).sum())} of {len(d)} faces lower by more than 0.01 |' + ' |' * (len(names) - 1))
    return f"""# The CPU default and candidate fast models outside the validation split

Measured {r['date']} by `benchmarks/fast_default.py` ({r['seconds'] / 60:.1f} min) on {r['cpu']}, {r['threads']} threads. Each model through
`FaceMasker.from_pretrained(...)` with its defaults, on the same seeded frames made by `benchmarks/real_world.py`'s generators from the
160 validation faces of CelebAMask-HQ-mini (configs/split_celebamask_mini.json) and the desk photos of ../shared/data/hands: wide frames
with 1 to 5 pasted faces, frames without a face, a still clip of `grace_hopper.jpg` with per-frame sensor noise and JPEG
re-encoding, and each of the first {a.pans} validation faces panning at 240 px across its own generated 640x360 texture (30 noisy frames,
scored against each frame's truth). Smoothing is `predict_video`'s (`smooth_step`; its default is 0.8). Speed is in `speed.md`.
{chr(10) + 'Other models (named as their rows in `generalisation.md`, where they are described):' if r.get('extra_models') else ''}{''.join(f'{chr(10)}- `{n}`: `{path}`' for n, path in r.get('extra_models', {}).items())}

{chr(10).join(rows)}
"""

if __name__ == '__main__':
    main()
