"""Ray against one process on the same CPUs: `mask_files_ray` with one single-thread actor per CPU, and `FaceMasker.mask_files`
with one PyTorch thread per CPU (and, for reference, with one thread: what one core does), on one folder of 512x512 crops of
the example photo: the shipped float32 model, default settings, outputs to local disk, the order of the three turned round
on every repeat. Each is timed end to end (Ray: after `ray.init`, so starting the actors and loading their models counts)
and on a quarter of the folder, which gives the steady rate without the start-up. Writes benchmarks/reports/ray_throughput.json.

    python benchmarks/ray_throughput.py              # 128 images, 2 CPUs, 2 repeats
    python benchmarks/ray_throughput.py --n 512 --cpus 8
"""
import argparse, json, os, subprocess, tempfile, time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]

def make_photos(folder, n):
    "`n` different 512x512 crops of the example photo (each shifted down a pixel more)."
    from facemask.core import read_image, write_image
    photo = read_image(REPO/'examples'/'grace_hopper.jpg')
    for i in range(n): write_image(folder/f'{i:05d}.jpg', photo[i % 88:i % 88 + 512, :512])
    return sorted(folder.glob('*.jpg'))

def timed(fn, files, out):
    t0 = time.perf_counter(); s = fn(files, out)
    assert len(s['written']) == len(files) and not s['failed'], s['failed']
    return time.perf_counter() - t0

def rates(fn, files, out):
    "Images/s end to end on `files`, and the steady rate: the three quarters more that the whole folder took over its first quarter."
    quarter, whole = timed(fn, files[:len(files) // 4], out/'quarter'), timed(fn, files, out/'whole')
    return {'seconds': round(whole, 2), 'images_per_s': round(len(files) / whole, 2),
            'steady_images_per_s': round((len(files) - len(files) // 4) / max(whole - quarter, 1e-9), 2)}

def main(n=128, cpus=2, batch_size=8, repeats=2, out=REPO/'benchmarks'/'reports'/'ray_throughput.json'):
    import ray
    from facemask.cluster import mask_files_ray
    from facemask.inference import FaceMasker, default_weights
    quiet, weights = (lambda line: None), default_weights()
    masker = FaceMasker.from_pretrained(weights, device='cpu', batch_size=batch_size)
    def one_process(threads):
        def run(files, out):
            torch.set_num_threads(threads)
            return masker.mask_files(files, out, progress=False, log=quiet)
        return run
    setups = {'one_process': one_process(cpus), 'one_process_1_thread': one_process(1),
              'ray': lambda files, out: mask_files_ray(files, out, weights, batch_size=batch_size, num_actors=cpus, progress=False, log=quiet)}
    report = {'cpu': subprocess.run(['lscpu'], capture_output=True, text=True).stdout.split('Model name:')[-1].split('\n')[0].strip(),
              'cpus': cpus, 'images': n, 'size': '512x512', 'batch_size': batch_size, 'torch': torch.__version__, 'ray_version': ray.__version__,
              'setups': {'one_process': f'FaceMasker.mask_files, {cpus} PyTorch threads, 2 decoding threads',
                         'one_process_1_thread': 'the same with 1 PyTorch thread: one core',
                         'ray': f'mask_files_ray, {cpus} actors x 1 CPU (each 1 PyTorch thread, 2 decoding threads)'}, 'runs': []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp); (tmp/'in').mkdir()
        files = make_photos(tmp/'in', n)
        setups['one_process'](files[:batch_size], tmp/'warm-up')
        t0 = time.perf_counter(); ray.init(num_cpus=cpus, include_dashboard=False); report['ray_init_s'] = round(time.perf_counter() - t0, 2)
        for k in range(repeats):
            run = {'load_average_before': round(os.getloadavg()[0], 2)}
            names = list(setups)[k % 3:] + list(setups)[:k % 3]
            for name in names: run[name] = rates(setups[name], files, tmp/f'{name}{k}')
            print(json.dumps(run), flush=True); report['runs'].append(run)
        ray.shutdown()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=1) + '\n')

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=128); p.add_argument('--cpus', type=int, default=2)
    p.add_argument('--batch-size', type=int, default=8); p.add_argument('--repeats', type=int, default=2)
    p.add_argument('--out', default=str(REPO/'benchmarks'/'reports'/'ray_throughput.json'))
    a = p.parse_args()
    main(a.n, a.cpus, a.batch_size, a.repeats, a.out)
