"""Bulk masking, files to files: photos per second of `facemask.bulk.mask_files_bulk` (`facemask predict --bulk`: JPEGs
decoded on the device, one whole-frame pass, PNGs written by threads) against `FaceMasker.mask_files` (the default path:
int8 on a CPU, the checkpoint on a GPU; and the float32 checkpoint), on the same folder of 512x512 JPEGs, each method
timed from the first file read to the last PNG written, the methods taking turns over the rounds. Then the accuracy of
the bulk path's whole-frame masks beside the default path's, on benchmarks/generalisation.py's sets and scoring.
Writes <out>.json and <out>.md (default benchmarks/reports/bulk_throughput).

    python benchmarks/bulk_throughput.py                                   # this machine, 256 photos
    python benchmarks/bulk_throughput.py --photos-dir JPEGS --count 4096 --no-accuracy --out $OUT/bulk_throughput   # a GPU machine
"""
import argparse, json, shutil, subprocess, sys, tempfile, time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent/'shared'/'data'
sys.path.insert(0, str(REPO/'benchmarks'))

def make_photos(dest, count, source=None):
    "`count` 512x512 JPEG files in `dest`: the validation faces of CelebAMask-HQ-mini (or the JPEGs of `source`), resized, repeated under new names."
    if source: files = sorted(Path(source).glob('*.jpg'))
    else:
        ids = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['val']
        files = [SHARED/'CelebAMask-HQ-mini'/'CelebA-HQ-img'/f'{i}.jpg' for i in ids]
    dest.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        f = files[k % len(files)]
        im = cv2.imread(str(f))
        if im.shape[:2] != (512, 512): im = cv2.resize(im, (512, 512), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(dest/f'{k:06d}.jpg'), im, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return dest

class BulkMasker:
    "`predict` of a list of RGB arrays through the bulk path's `whole_frame_masks` (for generalisation.score)."
    def __init__(self, model): self.model = model
    def predict(self, images):
        import torch
        from facemask.bulk import whole_frame_masks
        dev = next(self.model.parameters()).device
        return [m.cpu().numpy() for m in whole_frame_masks(self.model, [torch.from_numpy(np.ascontiguousarray(im)).permute(2, 0, 1).to(dev) for im in images])]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--count', type=int, default=256); p.add_argument('--rounds', type=int, default=2); p.add_argument('--threads', type=int, default=2)
    p.add_argument('--photos-dir', help='JPEGs to use instead of the validation faces of ../shared'); p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--no-accuracy', action='store_true'); p.add_argument('--out', default=str(REPO/'benchmarks/reports/bulk_throughput'))
    a = p.parse_args()
    import torch
    if not torch.cuda.is_available(): torch.set_num_threads(a.threads); cv2.setNumThreads(a.threads)
    from facemask.bulk import mask_files_bulk
    from facemask.inference import FaceMasker, default_weights
    from facemask.model import fuse_batchnorm, load_model
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    tmp = Path(tempfile.mkdtemp())
    src = make_photos(tmp/'photos', a.count, a.photos_dir)
    quiet = lambda *_: None
    default, fp32 = FaceMasker.from_pretrained(device=device), FaceMasker.from_pretrained(device=device, accurate=True)
    default_model = 'float32 checkpoint' if device == 'cuda' else 'int8 ONNX'
    methods = {'bulk (mask_files_bulk, float32 checkpoint)': lambda out: mask_files_bulk([src], out, device=device, batch_size=a.batch_size, workers=a.threads if device == 'cpu' else None, progress=False, log=quiet),
               f'mask_files, default path ({default_model})': lambda out: default.mask_files([src], out, progress=False, log=quiet),
               'mask_files, float32 checkpoint': lambda out: fp32.mask_files([src], out, progress=False, log=quiet)}
    for run in methods.values(): run(tmp/'warmup'); shutil.rmtree(tmp/'warmup')  # first-call costs (threads, kernels) out of the timing
    rates = {k: [] for k in methods}
    for r in range(a.rounds):
        for k, run in methods.items():
            out = tmp/'out'
            s = time.perf_counter(); summary = run(out); dt = time.perf_counter() - s
            assert len(summary['written']) == a.count, (k, summary['failed'][:3])
            rates[k].append(a.count / dt); shutil.rmtree(out)
            print(f'round {r + 1}: {k}: {a.count / dt:.1f} photos/s', flush=True)
    gpu = torch.cuda.get_device_name() if device == 'cuda' else None
    cpu = next((l.split(':', 1)[1].strip() for l in subprocess.run(['lscpu'], capture_output=True, text=True).stdout.splitlines() if l.startswith('Model name')), 'unknown CPU')
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': (f'{gpu}, ' if gpu else '') + f'{cpu}, PyTorch {torch.__version__}' + ('' if gpu else f', {a.threads} threads'),
           'device': device, 'photos': f"{a.count} 512x512 JPEG files ({'from ' + a.photos_dir if a.photos_dir else 'the 160 CelebAMask-HQ-mini validation faces, repeated'})",
           'batch_size': a.batch_size, 'rounds': a.rounds, 'photos_per_s': {k: {'best': max(v), 'all': v} for k, v in rates.items()}}
    if not a.no_accuracy:
        from generalisation import load, score
        d = load(argparse.Namespace(data=str(SHARED/'CelebAMask-HQ-mini'), hands=str(SHARED/'hands'), noface=str(SHARED/'no-face'), multipose=str(SHARED/'multipose'), limit=None))
        rep['accuracy'] = {}
        for k, m in {f'FaceMasker, default path ({default_model})': default, 'bulk (whole_frame_masks, float32 checkpoint)': BulkMasker(fuse_batchnorm(load_model(default_weights(), device)))}.items():
            r, _ = score(m, d)
            rep['accuracy'][k] = {'clean_iou': r['clean']['pooled_iou'], 'hands_iou': r['hands']['pooled_iou'], 'hand_px_called_face': r['hands']['hand_as_face'],
                                  'noface_photos_with_face_px': r['no_face']['all']['photos_with_face_px'], 'noface_pixels_called_face': r['no_face']['all']['pixels_called_face'],
                                  'dim_faces_lost': r['dim']['faces_lost'], 'multipose_empty': len(r['multipose']['empty']), 'multipose_recall_45_90': r['multipose']['recall_yaw_45_90'],
                                  'pet_beside_face_animal_px': r['pairs']['animal_pixels_called_face']}
            print(k, rep['accuracy'][k], flush=True)
        rep['accuracy_data'] = (f"{len(d['ids'])} validation faces clean and with a held-out hand, the same faces darkened and dimmed, {len(d['noface'])} held-out no-face photos, "
                                f"{len(d['pairs'])} animal photos each beside a face, {len(d['pose'])} turned heads (benchmarks/generalisation.py's sets)")
    out = Path(a.out)
    out.with_suffix('.json').write_text(json.dumps(rep, indent=1))
    md = out.with_suffix('.md')
    old = md.read_text() if md.exists() else ''
    md.write_text(markdown(rep) + (old[old.index('\n## Reading'):] if '\n## Reading' in old else ''))  # the reading is written by hand
    print(md.read_text())

def markdown(r):
    L = ['# Bulk masking, files to files', '', f"{r['date']}; {r['hardware']}; {r['photos']}; batch {r['batch_size']}; best of {r['rounds']} rounds, "
         'each timing every method in turn from the first file read to the last PNG written. Written by `benchmarks/bulk_throughput.py`.', '',
         '| method | photos/s (best) | every round |', '|---|---|---|']
    for k, v in r['photos_per_s'].items(): L.append(f"| {k} | {v['best']:.1f} | {', '.join(f'{x:.1f}' for x in v['all'])} |")
    if 'accuracy' in r:
        L += ['', '## Accuracy', '', r['accuracy_data'] + '.', '',
              '| path | clean IoU | hands IoU | hand px called face | no-face photos with face px | no-face px called face | dim darker faces lost | turned heads: empty masks | recall 45-90 | animal px beside a face called face |',
              '|---|---|---|---|---|---|---|---|---|---|']
        for k, v in r['accuracy'].items():
            L.append(f"| {k} | {v['clean_iou']:.4f} | {v['hands_iou']:.4f} | {v['hand_px_called_face']:.2%} | {v['noface_photos_with_face_px']:.1%} | {v['noface_pixels_called_face']:.3%} | "
                     f"{v['dim_faces_lost']} | {v['multipose_empty']} | {v['multipose_recall_45_90']:.3f} | {v['pet_beside_face_animal_px']:.3%} |")
    return '\n'.join(L) + '\n'

if __name__ == '__main__': main()
