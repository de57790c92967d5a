"""`--any-angle` in videos: the key frame's quarter turn held for the frames of its batch (`predict_proba_clip`, what
`predict_video` runs) against every frame turned on its own (what it ran before), and the default without any_angle,
through `FaceMasker.predict_video` on the same clips: faces found, IoU, animal clips painted, time and network passes
per frame.

Clips (benchmarks/video_keyframes.py's generators): 1280x720, 24 frames at 30 fps, 1-4 validation faces of
CelebAMask-HQ-mini (side log-uniform in 60-400 px) drifting up to 3 px a frame over a desk photo of ../shared/data/hands
or a generated texture, upright and the same clips turned on their side (a person lying down, or a camera on its side
that wrote no rotation); and held-out animal photos of ../shared/data/no-face, panned. The CPU default model. Writes
benchmarks/reports/any_angle_video.md and .json.

    python benchmarks/any_angle_video.py          # ~2 min on 2 CPU cores
"""
import argparse, glob, json, tempfile, time
from pathlib import Path

import cv2
import numpy as np
import torch

from facemask.core import read_image
from facemask.hands import is_animal
from facemask.inference import FaceMasker
from noface_all import cpu_name, write_report
from real_world import REPO, SHARED, iou, val_faces
from rolled import turn
from video_keyframes import counting, drifting_clip, panning_clip, write_clip

METHODS = {'default': {}, 'each_frame': {'any_angle': True}, 'held': {'any_angle': True}}
LABELS = {'default': 'default (no any_angle)', 'each_frame': 'any_angle, every frame turned on its own',
          'held': "any_angle, the key frame's turn held for its batch of 8 (predict_video)"}

def sideways(frames):
    "The clip's frames, truths and owner maps turned a quarter turn counter-clockwise."
    return [tuple(turn(a, 90) for a in f) for f in frames]

def score(masker, path, frames, sides, out):
    "Run `predict_video` on `path`; seconds, and per face and frame whether it was found (IoU over 0.5), pooled intersection and union."
    t = time.perf_counter(); masker.predict_video(path, frames_dir=out, progress=False); dt = time.perf_counter() - t
    found, I, U = [], 0, 0
    for k, (_, gt, owner) in enumerate(frames):
        pr, g = cv2.imread(str(out/f'{k:06d}.png'), cv2.IMREAD_GRAYSCALE) > 127, gt > 127
        I += int((pr & g).sum()); U += int((pr | g).sum())
        found += [iou(pr & (owner == i), g & (owner == i)) > 0.5 for i in range(len(sides))]
    return dt, found, I, U

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--noface', default=str(SHARED/'no-face')); p.add_argument('--clips', type=int, default=6)
    p.add_argument('--noface-clips', type=int, default=6); p.add_argument('--frames', type=int, default=24)
    p.add_argument('--out', default=str(REPO/'benchmarks/reports/any_angle_video'))
    a = p.parse_args()
    torch.set_num_threads(2)
    t0 = time.time()
    maskers = {n: counting(FaceMasker.from_pretrained(device='cpu', **kw)) for n, kw in METHODS.items()}
    each = maskers['each_frame']
    each.predict_proba_clip = lambda frames, *_: each.predict_proba(frames)  # what predict_video ran before with any_angle
    faces = val_faces(a.data)
    desks = [read_image(f) for f in sorted(glob.glob(str(Path(a.hands)/'images'/'desk_*.jpg')))]
    rng = np.random.default_rng(0)
    clips = [drifting_clip(rng, faces, desks, a.frames) for _ in range(a.clips)]
    sets = {'upright': clips, 'on_its_side': [(sideways(f), s) for f, s in clips]}
    animals = [n for n in json.loads((REPO/'configs/split_noface.json').read_text())['val'] if is_animal(n)][:a.noface_clips]
    pans = [panning_clip(rng, read_image(Path(a.noface)/'images'/n), a.frames) for n in animals]
    rows = {n: {} for n in maskers}
    with tempfile.TemporaryDirectory() as tmp:
        for set_name, set_clips in sets.items():
            for n, m in maskers.items():
                m.passes = 0
                st = rows[n][set_name] = {'seconds': 0.0, 'frames': 0, 'found': [], 'I': 0, 'U': 0}
                for c, (frames, sides) in enumerate(set_clips):
                    path = Path(tmp)/f'{set_name}{c}.mp4'
                    if not path.exists(): write_clip(path, [f for f, _, _ in frames])
                    dt, found, I, U = score(m, path, frames, sides, Path(tmp)/f'{set_name}{c}_{n}')
                    st['seconds'] += dt; st['frames'] += len(frames); st['found'] += found; st['I'] += I; st['U'] += U
                rows[n][set_name] = {'face_frames': len(st['found']), 'found': int(sum(st['found'])), 'pooled_iou': st['I'] / max(1, st['U']),
                                     'ms_per_frame': 1000 * st['seconds'] / st['frames'], 'passes_per_frame': m.passes / st['frames']}
                print(set_name, n, rows[n][set_name], flush=True)
        for n, m in maskers.items():
            shares, painted = [], []
            for c, frames in enumerate(pans):
                path, out = Path(tmp)/f'pan{c}.mp4', Path(tmp)/f'pan{c}_{n}'
                if not path.exists(): write_clip(path, frames)
                m.predict_video(path, frames_dir=out, progress=False)
                s = [float((cv2.imread(str(out/f'{k:06d}.png'), cv2.IMREAD_GRAYSCALE) > 127).mean()) for k in range(len(frames))]
                shares += s; painted += [animals[c]] if any(s) else []
            rows[n]['animals'] = {'frames_with_face_px': float(np.mean([v > 0 for v in shares])), 'px_called_face': float(np.mean(shares)), 'clips_painted': painted}
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, 2 CPU threads, PyTorch {torch.__version__}', 'minutes': round((time.time() - t0) / 60, 1),
           'clips': a.clips, 'frames_per_clip': a.frames, 'animal_clips': len(pans), 'rows': rows}
    print(write_report(a.out, rep, markdown(rep)))

def markdown(r):
    rows = r['rows']
    out = ['# `--any-angle` in videos\n',
           f"Measured {r['date']} by `benchmarks/any_angle_video.py` in {r['minutes']} min on {r['hardware']}, the CPU default (`facemask_mobilenetv2_fast_int8.onnx`) "
           f"through `FaceMasker.predict_video` (smoothing 0.8, masks written as PNGs). {r['clips']} clips of {r['frames_per_clip']} frames, 1280x720 at 30 fps, "
           "1-4 validation faces of CelebAMask-HQ-mini (`configs/split_celebamask_mini.json` 'val'; research-only) drifting over a desk photo or a texture, "
           "upright and the same clips on their side (720x1280, turned a quarter turn counter-clockwise, no rotation in the file); "
           f"{r['animal_clips']} held-out animal photos (`configs/split_noface.json` 'val') panned, upright. A face is found in a frame where its IoU is over 0.5.\n",
           '| method | upright: faces found | upright: pooled IoU | upright: ms / passes per frame | on its side: faces found | on its side: pooled IoU | on its side: ms / passes per frame | animal clips: frames with face px | animal clips painted |',
           '|---|---|---|---|---|---|---|---|---|']
    for n, row in rows.items():
        cells = [f"{row[s]['found']}/{row[s]['face_frames']} | {row[s]['pooled_iou']:.4f} | {row[s]['ms_per_frame']:.0f} / {row[s]['passes_per_frame']:.2f}" for s in ('upright', 'on_its_side')]
        an = row['animals']
        out.append(f"| {LABELS[n]} | {cells[0]} | {cells[1]} | {an['frames_with_face_px']:.1%} | {len(an['clips_painted'])} of {r['animal_clips']} ({', '.join(c.split('_', 1)[1].rsplit('.', 1)[0] for c in an['clips_painted']) or 'none'}) |")
    return '\n'.join(out) + '\n'

if __name__ == '__main__': main()
