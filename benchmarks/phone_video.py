"""Phone videos: a phone held upright records a portrait video with its frames on their side and a display rotation in
the container, which players apply; iPhones record HDR (HLG) by default. Each validation face of CelebAMask-HQ-mini becomes a short lossless clip stored
turned against each display rotation (so that a player shows it upright), is masked by `FaceMasker.predict_video`
(frames written as PNGs), and its last mask is scored against the upright truth: whether it has the size of the video
as shown, its IoU, and whether the face is lost. A mask that comes out in the stored orientation (what a tool that
ignores the display rotation gives) is turned to the shown one before it is scored, so that the scores say whether
the face was found. Writes <out>.json and <out>.md (default benchmarks/reports/phone_video).

    python benchmarks/phone_video.py                 # the accurate model and the CPU default
    python benchmarks/phone_video.py --limit 20 --out /tmp/phone_video

A section of the report headed `## Reading` is written by hand and kept when the script rewrites the tables.
"""
import argparse, json, sys, tempfile, time
from pathlib import Path

import av
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'benchmarks'))
SHARED = REPO.parent/'shared'/'data'
from rolled import turn
CLIPS = {'0': (0, False), '90': (90, False), '180': (180, False), '-90': (-90, False), 'hlg_90': (90, True)}  # (display rotation, degrees
# counter-clockwise as FFmpeg and PyAV give it; HDR): the last is how iPhones record by default, HDR video held upright
LABELS = {'0': 'display rotation 0 deg', '90': '90 deg', '180': '180 deg', '-90': '-90 deg', 'hlg_90': 'HDR (HLG, 10-bit HEVC), 90 deg'}

def srgb_to_linear(x): return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)

def hlg_oetf(e):
    "BT.2100's HLG curve: scene light (0-1) to signal."
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    return np.where(e <= 1 / 12, np.sqrt(3 * np.maximum(e, 0)), a * np.log(np.maximum(12 * e - b, 1e-6)) + c)

BT709_TO_BT2020 = np.array([[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]])
HLG_WHITE = 0.2647  # the scene light HLG codes at 0.75, BT.2408's reference white: where the photo's white goes

def hlg_yuv(rgb):
    "An sRGB photo as an HDR video frame: BT.2020 primaries, HLG, 10-bit limited-range Y'CbCr 4:2:0 planes stacked as PyAV's yuv420p10le array."
    e = hlg_oetf(srgb_to_linear(rgb / 255.0) @ BT709_TO_BT2020.T * HLG_WHITE)
    y = e @ np.array([0.2627, 0.6780, 0.0593])
    half = lambda c: c.reshape(c.shape[0] // 2, 2, c.shape[1] // 2, 2).mean((1, 3)).reshape(c.shape[0] // 4, c.shape[1])
    return np.round(np.concatenate([64 + 876 * y, 512 + 896 * half((e[..., 2] - y) / 1.8814), 512 + 896 * half((e[..., 0] - y) / 1.4746)])).astype(np.uint16)

def phone_clip(path, upright, rotation, hdr=False, n=2):
    "A lossless clip of `n` copies of `upright` stored turned by -`rotation`, with the display `rotation` that shows it upright: H.264 of the photo, or (`hdr`) HEVC of its HLG frame, tagged BT.2020 / HLG."
    stored = turn(upright, -rotation)
    with av.open(str(path), 'w') as c:
        if hdr:
            v = c.add_stream('libx265', rate=30, options={'x265-params': 'lossless=1:bframes=0:log-level=error'}); v.pix_fmt = 'yuv420p10le'
            v.codec_context.color_primaries, v.codec_context.color_trc, v.codec_context.colorspace, v.codec_context.color_range = 9, 18, 9, 1  # BT.2020, HLG, limited
        else: v = c.add_stream('libx264', rate=30, options={'qp': '0'}); v.pix_fmt = 'yuv444p'
        v.height, v.width = stored.shape[:2]
        if rotation: v.set_display_rotation(rotation)
        for k in range(n):
            f = av.VideoFrame.from_ndarray(hlg_yuv(stored) if hdr else stored, format='yuv420p10le' if hdr else 'rgb24'); f.pts = k
            if hdr: f.color_primaries, f.color_trc, f.colorspace, f.color_range = 9, 18, 9, 1
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    return path

def score_clips(masker, faces, truths, rotation, hdr, work):
    "Masks of the size shown, pooled IoU and faces lost (under half of their truth called face) of the last masks of `faces` as phone clips."
    from facemask.core import read_image
    inter = union = lost = shown = 0
    work.mkdir(parents=True, exist_ok=True)
    for i, (face, truth) in enumerate(zip(faces, truths)):
        clip = phone_clip(work/f'{i}.mp4', face, rotation, hdr)
        masker.predict_video(clip, frames_dir=work/f'{i}_frames', progress=False)
        mask = read_image(sorted((work/f'{i}_frames').iterdir())[-1])[..., 0]
        if mask.shape == truth.shape: shown += 1
        else: mask = turn(mask, rotation)  # the stored orientation, turned as the player shows it
        p, t = mask > 127, truth > 127
        hit = int((p & t).sum()); inter += hit; union += int((p | t).sum()); lost += hit < 0.5 * t.sum()
    return {'faces': len(faces), 'shown_size': shown, 'iou': inter / max(union, 1), 'lost': int(lost)}

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--limit', type=int, help='the first N faces')
    p.add_argument('--out', default=str(REPO/'benchmarks/reports/phone_video'))
    a = p.parse_args()
    import torch; torch.set_num_threads(2)
    from noface_all import cpu_name, write_report
    from facemask.data import prepare
    from facemask.evaluate import benchmark_set
    from facemask.inference import FaceMasker, default_weights
    ids = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['val'][:a.limit]
    faces, truths = benchmark_set(prepare(a.data, REPO/'data'/'bench-prepared'), ids)[:2]
    faces, truths = [f[:, 64:448] for f in faces], [t[:, 64:448] for t in truths]  # portrait, 512 tall and 384 wide, as a phone films a face
    rows, t0 = {}, time.time()
    for name, accurate in (('accurate', True), ('cpu_default', False)):
        masker = FaceMasker.from_pretrained(default_weights(accurate=accurate), device='cpu')
        with tempfile.TemporaryDirectory() as work:
            rows[name] = {'weights': default_weights(accurate=accurate).name,
                          'clips': {k: score_clips(masker, faces, truths, r, hdr, Path(work)/k) for k, (r, hdr) in CLIPS.items()}}
        print(name, {k: (s['shown_size'], round(s['iou'], 4), s['lost']) for k, s in rows[name]['clips'].items()}, f'{time.time() - t0:.0f} s', flush=True)
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, 2 CPU threads, PyTorch {torch.__version__}, PyAV {av.__version__}',
           'minutes': round((time.time() - t0) / 60, 1), 'faces': len(faces), 'rows': rows}
    print(write_report(a.out, rep, markdown(rep)))

def markdown(rep):
    rows = rep['rows']
    out = ['# Phone videos: frames stored on their side, HDR\n',
           f"Measured {rep['date']} by `benchmarks/phone_video.py` ({rep['minutes']} min) on {rep['hardware']}. Data (research-only, ../shared/data): the "
           f"{rep['faces']} validation faces of CelebAMask-HQ-mini (`configs/split_celebamask_mini.json` 'val'), cut to portrait "
           "frames 384 wide and 512 tall (the middle of each 512x512 photo), each a 2-frame lossless clip stored turned against the display "
           "rotation, so that a player shows it upright: H.264 of the photo, or in the last column an HDR clip as iPhones record by default "
           "(HEVC, 10-bit, BT.2020 primaries, HLG, the photo's white at HLG's reference white 0.75; `hlg_yuv`). Each through `FaceMasker.predict_video` with the model's "
           "defaults; the last frame's mask scored against the upright truth. A mask 512 wide and 384 tall is in the stored orientation: it is "
           "turned as shown before it is scored, so that its IoU says whether the face was found; upside down (180) a mask has the shown size, "
           "and its IoU says whether it lines up with the video as shown. "
           "A face is lost when under half of its truth is called face.\n",
           'Models: ' + '; '.join(f"`{n}` = `facemask/weights/{r['weights']}`" for n, r in rows.items()) + '.\n',
           '## Masks the size of the video as shown; pooled IoU; faces lost\n',
           '| model | ' + ' | '.join(LABELS[k] for k in CLIPS) + ' |', '|---' * (len(CLIPS) + 1) + '|']
    out += [f'| {n} | ' + ' | '.join(f"{s['shown_size']} of {s['faces']}; {s['iou']:.4f}; {s['lost']}" for s in (r['clips'][k] for k in CLIPS)) + ' |'
            for n, r in rows.items()]
    return '\n'.join(out) + '\n'

if __name__ == '__main__': main()
