"""Videos: tiles on key frames only, each frame looking closer where the frame before found faces (`predict_proba_clip`,
what `predict_video` runs), against tiles on every frame and no tiles, through `FaceMasker.predict_video` itself on the same
clips: small faces found, IoU, animals painted, turning heads kept, and time per frame.

Clips: 1280x720, 24 frames at 30 fps, 1-4 validation faces of CelebAMask-HQ-mini (side log-uniform in 60-400 px) drifting
up to 3 px a frame on a desk photo of ../shared/data/hands or a generated texture (benchmarks/real_world.py's
generators), written as H.264 (crf 18); the truth is where the faces were pasted. Methods alternate clip by clip.
Writes benchmarks/reports/video_keyframes.md and .json.

    python benchmarks/video_keyframes.py          # ~5 min on 2 CPU cores
"""
import argparse, glob, json, tempfile, time
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from facemask.core import read_image
from facemask.hands import is_animal
from facemask.data import MULTIPOSE_VAL_PEOPLE
from facemask.inference import FaceMasker
from noface_all import cpu_name, write_report
from real_world import BUCKETS, REPO, SHARED, iou, texture, val_faces

def drifting_clip(rng, faces, backgrounds, n=24, W=1280, H=720, sides=(60, 400), speed=3.0):
    "`n` WxH frames of 1-4 face photos drifting (at most `speed` px a frame, bouncing off the edges) over one background; each frame's truth, owner map and the faces' sides."
    bg = cv2.resize(backgrounds[rng.integers(len(backgrounds))], (W, H)) if rng.random() < 0.5 else texture(rng, H, W)
    bg = cv2.GaussianBlur(bg, (0, 0), 2)
    placed, gap = [], int(2 * speed * n)  # (face index, side, x, y, vx, vy); the gap keeps them apart while they drift
    for j in rng.choice(len(faces), rng.integers(1, 5), replace=False):
        s = int(np.exp(rng.uniform(*np.log(sides))))
        for _ in range(50):
            x, y = rng.uniform(0, W - s), rng.uniform(0, H - s)
            if all(x + s + gap <= a or a + b + gap <= x or y + s + gap <= c or c + b + gap <= y for _, b, a, c, _, _ in placed): break
        else: continue
        angle, v = rng.uniform(0, 2 * np.pi), rng.uniform(0, speed)
        placed.append((j, s, x, y, v * np.cos(angle), v * np.sin(angle)))
    frames = []
    for k in range(n):
        img, gt, owner = bg.copy(), np.zeros((H, W), np.uint8), np.full((H, W), -1, np.int16)
        for i, (j, s, x, y, vx, vy) in enumerate(placed):
            x, y = int(np.clip(x + vx * k, 0, W - s)), int(np.clip(y + vy * k, 0, H - s))
            im, m = faces[j]
            img[y:y + s, x:x + s] = cv2.resize(im, (s, s), interpolation=cv2.INTER_AREA)
            gt[y:y + s, x:x + s] = np.where(cv2.resize(m, (s, s), interpolation=cv2.INTER_AREA) > 127, 255, 0)
            owner[y:y + s, x:x + s] = i
        frames.append((img, gt, owner))
    return frames, [s for _, s, *_ in placed]

def panning_clip(rng, photo, n=24, W=1280, H=720, speed=3.0):
    "`n` WxH frames of a photo scaled to cover 1.25x the frame, its window drifting up to `speed` px a frame: a slow pan over a scene."
    s = 1.25 * max(W / photo.shape[1], H / photo.shape[0])
    big = cv2.resize(photo, (round(photo.shape[1] * s), round(photo.shape[0] * s)), interpolation=cv2.INTER_CUBIC)
    x, y = rng.uniform(0, big.shape[1] - W), rng.uniform(0, big.shape[0] - H)
    angle, v = rng.uniform(0, 2 * np.pi), rng.uniform(0, speed)
    at = lambda k: (int(np.clip(x + v * np.cos(angle) * k, 0, big.shape[1] - W)), int(np.clip(y + v * np.sin(angle) * k, 0, big.shape[0] - H)))
    return [big[b:b + H, a:a + W] for a, b in map(at, range(n))]

def turning_clips(root, people, backgrounds, rng, repeats=2, hold=2, W=1280, H=720, sides=(120, 320)):
    "For each of `people` and each of their two series of ../shared/data/multipose photos, `repeats` times: the head turning from frontal to +90 degrees, back, to -90 and back (15 degree steps, each pose `hold` frames), pasted at one height (log-uniform in `sides`) and place in a WxH frame; per clip the frames, each frame's labels in the frame (0 outside the photo) and yaw."
    clips = []
    for person in people:
        for series in '12' * repeats:
            photos = {int(Path(f).stem.split('_')[1][3:]): f for f in sorted(glob.glob(str(Path(root)/'images'/f'{person}_yaw*_{series}*.jpg')))}
            yaws = [*range(0, 91, 15), *range(75, -91, -15), *range(-75, 1, 15)]
            h = int(np.exp(rng.uniform(*np.log(sides))))
            bg = cv2.GaussianBlur(cv2.resize(backgrounds[rng.integers(len(backgrounds))], (W, H)) if rng.random() < 0.5 else texture(rng, H, W), (0, 0), 2)
            first = read_image(photos[0]); w = round(h * first.shape[1] / first.shape[0])
            x, y, frames = int(rng.uniform(0, W - w)), int(rng.uniform(0, H - h)), []
            for yaw in yaws:
                im = read_image(photos[yaw])
                img, lab = bg.copy(), np.zeros((H, W), np.uint8)
                img[y:y + h, x:x + w] = cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA)
                lab[y:y + h, x:x + w] = cv2.resize(cv2.imread(str(Path(root)/'labels'/f'{Path(photos[yaw]).stem}.png'), cv2.IMREAD_GRAYSCALE), (w, h), interpolation=cv2.INTER_NEAREST)
                frames += [(img, lab, yaw)] * hold
            clips.append((f'{person}_{series}_{len(clips)}', frames))
    return clips

def write_clip(path, frames, rate=30):
    "The frames as an H.264 mp4 (yuv420p, crf 18), as a camera or an editor would deliver them."
    with av.open(str(path), 'w') as c:
        s = c.add_stream('libx264', rate=rate, options={'crf': '18'})
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], 'yuv420p'
        for f in frames: c.mux(s.encode(av.VideoFrame.from_ndarray(f, format='rgb24')))
        c.mux(s.encode(None))

def counting(masker):
    "Wrap the masker's network so that it counts the images (frames and crops) it is given."
    run = masker.model.predict_proba
    def predict_proba(images, *args, **kwargs):
        masker.passes += len(images)
        return run(images, *args, **kwargs)
    masker.model.predict_proba, masker.passes = predict_proba, 0
    return masker

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--noface', default=str(SHARED/'no-face')); p.add_argument('--multipose', default=str(SHARED/'multipose'))
    p.add_argument('--clips', type=int, default=12); p.add_argument('--noface-clips', type=int, default=12); p.add_argument('--frames', type=int, default=24)
    p.add_argument('--threads', type=int, default=2); p.add_argument('--out', default=str(REPO/'benchmarks/reports/video_keyframes'))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    methods = {'key frames (default: tiles on the first of each 8 frames, close-ups where the frame before found faces)': FaceMasker.from_pretrained(device='cpu'),
               'tiles on every frame, each frame alone (before)': FaceMasker.from_pretrained(device='cpu'),
               'no tiles (--levels 0)': FaceMasker.from_pretrained(device='cpu', levels=0)}
    before = methods['tiles on every frame, each frame alone (before)']
    before.predict_proba_clip = lambda frames, *_: before.predict_proba(frames)  # what predict_video ran before key frames
    methods = {n: counting(m) for n, m in methods.items()}
    faces = val_faces(a.data)
    desks = [read_image(f) for f in sorted(glob.glob(str(Path(a.hands)/'images'/'desk_*.jpg')))]
    rng = np.random.default_rng(0)
    clips = [drifting_clip(rng, faces, desks, a.frames) for _ in range(a.clips)]
    animals = [n for n in json.loads((REPO/'configs/split_noface.json').read_text())['val'] if is_animal(n)][:a.noface_clips]
    pans = [panning_clip(rng, read_image(Path(a.noface)/'images'/n), a.frames) for n in animals]
    turns = turning_clips(a.multipose, MULTIPOSE_VAL_PEOPLE, desks, rng)
    stats = {n: {'I': 0, 'U': 0, 'off': [], 'seconds': 0.0, 'frames': 0, 'buckets': {f'{lo}-{hi - 1}': {'faces': 0, 'found': 0, 'I': 0, 'U': 0} for lo, hi in BUCKETS}} for n in methods}
    with tempfile.TemporaryDirectory() as tmp:
        for c, (frames, sides) in enumerate(clips):
            path = Path(tmp)/f'clip{c}.mp4'
            write_clip(path, [f for f, _, _ in frames])
            for name, masker in methods.items():
                out = Path(tmp)/f'{c}_{abs(hash(name))}'
                t = time.perf_counter(); masker.predict_video(path, frames_dir=out, progress=False); dt = time.perf_counter() - t
                st = stats[name]; st['seconds'] += dt; st['frames'] += len(frames)
                for k, (_, gt, owner) in enumerate(frames):
                    pr, g = cv2.imread(str(out/f'{k:06d}.png'), cv2.IMREAD_GRAYSCALE) > 127, gt > 127
                    st['I'] += int((pr & g).sum()); st['U'] += int((pr | g).sum()); st['off'].append(float(pr[owner < 0].mean()))
                    for i, s in enumerate(sides):
                        r, b = owner == i, next(f'{lo}-{hi - 1}' for lo, hi in BUCKETS if lo <= s < hi)
                        bk = st['buckets'][b]; bk['faces'] += 1; bk['found'] += int(iou(pr & r, g & r) > 0.5)
                        bk['I'] += int((pr & g & r).sum()); bk['U'] += int(((pr | g) & r).sum())
            print(f'clip {c + 1}/{len(clips)}', flush=True)
        passes = {n: m.passes for n, m in methods.items()}  # on the face clips
        for c, frames in enumerate(pans):
            path = Path(tmp)/f'pan{c}.mp4'
            write_clip(path, frames)
            for name, masker in methods.items():
                out = Path(tmp)/f'pan{c}_{abs(hash(name))}'
                masker.predict_video(path, frames_dir=out, progress=False)
                shares = [float((cv2.imread(str(out/f'{k:06d}.png'), cv2.IMREAD_GRAYSCALE) > 127).mean()) for k in range(len(frames))]
                stats[name]['pan_frames'] = stats[name].get('pan_frames', []) + shares
                if any(shares): stats[name]['pans_painted'] = stats[name].get('pans_painted', []) + [animals[c]]
        for clip, frames in turns:
            path = Path(tmp)/f'{clip}.mp4'
            write_clip(path, [f for f, _, _ in frames])
            for name, masker in methods.items():
                out, st = Path(tmp)/f'{clip}_{abs(hash(name))}', stats[name].setdefault('turns', {'near': [0, 0], 'far': [0, 0], 'lost': [], 'background': [0, 0]})
                masker.predict_video(path, frames_dir=out, progress=False)
                for k, (_, lab, yaw) in enumerate(frames):
                    pr, parts = cv2.imread(str(out/f'{k:06d}.png'), cv2.IMREAD_GRAYSCALE) > 127, lab >= 3  # eyes, nose, mouth
                    bucket = st['near' if abs(yaw) <= 30 else 'far'] if abs(yaw) <= 30 or abs(yaw) >= 45 else None
                    if bucket: bucket[0] += int((pr & parts).sum()); bucket[1] += int(parts.sum())
                    if not (pr & (lab > 0)).any(): st['lost'].append(f'{clip} frame {k} (yaw {yaw:+d})')
                    st['background'][0] += int((pr & (lab == 0)).sum()); st['background'][1] += int((lab == 0).sum())
    rows = {n: {'pooled_iou': st['I'] / max(1, st['U']), 'face_px_off_the_faces': float(np.mean(st['off'])), 'passes_per_frame': passes[n] / st['frames'],
                'ms_per_frame': 1000 * st['seconds'] / st['frames'],
                'noface_frames_with_face_px': float(np.mean([v > 0 for v in st.get('pan_frames', [])])) if pans else None,
                'noface_px_called_face': float(np.mean(st.get('pan_frames', []))) if pans else None, 'noface_clips_painted': st.get('pans_painted', []),
                'turning': {'recall_yaw_0_30': st['turns']['near'][0] / st['turns']['near'][1], 'recall_yaw_45_90': st['turns']['far'][0] / st['turns']['far'][1],
                            'frames_lost': st['turns']['lost'], 'background_called_face': st['turns']['background'][0] / st['turns']['background'][1]} if turns else None,
                'buckets': {b: {'faces': v['faces'], 'found': v['found'], 'pooled_iou': v['I'] / max(1, v['U'])} for b, v in st['buckets'].items() if v['faces']}}
            for n, st in stats.items()}
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, {a.threads} CPU threads, PyTorch {torch.__version__}', 'minutes': round((time.time() - t0) / 60, 1),
           'clips': a.clips, 'noface_clips': len(pans), 'frames_per_clip': a.frames, 'faces': sum(len(s) for _, s in clips),
           'turning_clips': len(turns), 'turning_frames': sum(len(f) for _, f in turns), 'rows': rows}
    print(write_report(a.out, rep, markdown(rep)))

def markdown(r):
    buckets = list(next(iter(r['rows'].values()))['buckets'])
    head = ['| method | pooled IoU | ' + ' | '.join(f'faces {b} px: found (IoU) ' for b in buckets) + ' | face px off the faces | no-face clips: frames with face px | clips painted | network passes per frame | ms per frame, file to PNGs |',
            '|---|---|' + '---|' * len(buckets) + '---|---|---|---|---|']
    rows = [f"| {n} | {v['pooled_iou']:.4f} | " + ' | '.join(f"{v['buckets'][b]['found']}/{v['buckets'][b]['faces']} ({v['buckets'][b]['pooled_iou']:.3f})" for b in buckets)
            + f" | {100 * v['face_px_off_the_faces']:.3f}% | {100 * v['noface_frames_with_face_px']:.1f}% | {len(v['noface_clips_painted'])} of {r['noface_clips']}"
            + f" | {v['passes_per_frame']:.2f} | {v['ms_per_frame']:.0f} |" for n, v in r['rows'].items()]
    return '\n'.join([
        '# Videos: tiles on key frames', '',
        f"Measured {r['date']} by `benchmarks/video_keyframes.py` in {r['minutes']} min on {r['hardware']}, the CPU default "
        "(`facemask_mobilenetv2_fast_int8.onnx`) through `FaceMasker.predict_video` (smoothing 0.8, masks written as PNGs). "
        f"{r['clips']} clips of {r['frames_per_clip']} frames, 1280x720 at 30 fps, H.264 crf 18, {r['faces']} faces in all: validation faces of "
        "CelebAMask-HQ-mini (configs/split_celebamask_mini.json 'val', research-only) pasted at 60-400 px and drifting up to 3 px a frame over a "
        "desk photo of ../shared/data/hands or a generated texture. A face counts as found in a frame where its IoU inside its own square is "
        f"over 0.5; the counts are face-frames. No-face clips: the first {r['noface_clips']} animal photos of the held-out no-face photos "
        "(configs/split_noface.json 'val', ../shared/data/no-face, research-only), each scaled to 1.25x the frame and panned up to 3 px a frame. "
        "The methods alternate clip by clip. Time per frame is over the face clips only.", '',
        *head, *rows, '', '## Turning heads', '',
        f"{r['turning_clips']} clips, {r['turning_frames']} frames in all: each series of the held-out people of ../shared/data/multipose "
        f"({', '.join(MULTIPOSE_VAL_PEOPLE)}, never trained on; research-only), twice each at another size and place, as a head turning from frontal to +90 degrees, back, to -90 and back "
        "in 15 degree steps, 2 frames a pose, the photo pasted 120-320 px high at one place over a desk photo or a texture, 1280x720 at 30 fps, "
        "H.264 crf 18. Recall of the labelled eyes, nose and mouth pixels by yaw (the labels' skin and hair do not follow this project's face "
        "definition); a frame is lost where no face pixel falls on the labelled head; background: the label's background pixels and the frame "
        "around the photo.", '',
        '| method | eyes/nose/mouth recall, yaw 0 to ±30 | recall, yaw ±45 to ±90 | frames with the head lost | background called face |', '|---|---|---|---|---|',
        *[f"| {n} | {v['turning']['recall_yaw_0_30']:.4f} | {v['turning']['recall_yaw_45_90']:.4f} | {len(v['turning']['frames_lost'])}"
          + (f" ({', '.join(v['turning']['frames_lost'][:6])}{', ...' if len(v['turning']['frames_lost']) > 6 else ''})" if v['turning']['frames_lost'] else '')
          + f" | {100 * v['turning']['background_called_face']:.3f}% |" for n, v in r['rows'].items()], ''])

if __name__ == '__main__':
    main()
