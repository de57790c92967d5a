"""The fine-tuning runs behind reports/generalisation.md: the model shipped before them (commit 824b6da) fine-tuned with
each new ingredient on and off, same budget and seed, one run after another (on 2 CPU cores about 10-12 minutes each);
a killed sweep resumes where it stopped. The starting weights come from git history:

    git show 824b6da:facemask/weights/facemask_mobilenetv2.pt > runs/shipped_824b6da.pt

    python benchmarks/generalisation_runs.py                        # all runs into runs/generalisation/<run>/
    python benchmarks/generalisation_runs.py ft_all ft_control --epochs 12
    python benchmarks/generalisation.py $(python benchmarks/generalisation_runs.py --list)   # then score them
    python benchmarks/generalisation_runs.py --presence ft_all ft_no_negatives   # also fit each one's face-presence head
                                                                                  # (facemask fit-presence) into <run>/presence.pt;
                                                                                  # a freeze_encoder run keeps --init's head instead
    python benchmarks/generalisation_runs.py ft_control ft_all_turned_heads --seed 1   # another seed: <run>_seed1/
    python benchmarks/generalisation_runs.py fast_stride4 fast_stride4_distill fast_stride4_distill_frozen fast_stride4_distill_faces --init facemask/weights/facemask_mobilenetv2.pt --epochs 12 --presence
    python benchmarks/generalisation_runs.py fast_stride2_head_only fast_stride2_head_only_clip3 --init facemask/weights/facemask_mobilenetv2.pt --epochs 0 --presence
    python benchmarks/generalisation_runs.py fast256_frozen fast256 --init runs/generalisation/fast_stride2_head_only/presence.pt --epochs 8 --lr 3e-4 --presence
"""
import argparse, json, subprocess, sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent/'shared'/'data'
NEGATIVES = {'noface': str(SHARED/'no-face'), 'p_noface': 0.15, 'p_backdrop': 0.15}
OCCLUDERS = {'p_covering': 0.15, 'same_skin': 0.5}
TONE = {'p_tone': 0.3, 'p_light': 0.3, 'dark_weight': 2.0}
LOSS = {'empty_dice': False}
TURNED_HEADS = {'extra_data': str(REPO/'data/multipose-prepared')}  # facemask.data.prepare_multipose: p04, p06, p07 held out
STRIDE2_STUDENT = NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'decoder_channels': [96, 48, 32, 16], 'teacher': str(REPO/'facemask/weights/facemask_mobilenetv2.pt'), 'freeze_encoder': True}  # the shipped encoder, a decoder cut at stride 2
RUNS = {  # run: overrides of configs/default.json on top of the fine-tune from the shipped model
    'ft_control': {},
    'ft_all': NEGATIVES | OCCLUDERS | TONE | LOSS,
    'ft_all_empty_dice': NEGATIVES | OCCLUDERS | TONE,
    'ft_no_negatives': OCCLUDERS | TONE | LOSS,
    'ft_no_occluders': NEGATIVES | TONE | LOSS,
    'ft_no_tone': NEGATIVES | OCCLUDERS | LOSS,
    'ft_all_turned_heads': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS,
    'ft_all_turned_heads_lr2e-4': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'lr': 2e-4},
    'ft_all_turned_heads_more_negatives': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'p_noface': 0.25, 'p_backdrop': 0.25},
    'ft_all_turned_heads_light_last': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'light_last': True},  # the light changed last: no-face photos, hands and objects relit too
    'ft_all_turned_heads_roll': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'p_roll': 0.2},  # a fifth of the items turned any way up (in-plane roll: rolled.md)
    'ft_all_turned_heads_degrade': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'p_degrade': 0.2},  # a fifth of the items made worse photos (degraded.md)
    'ft_all_turned_heads_colour': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'p_colour': 0.2},  # a fifth of the items under coloured light or red and blue swapped (degraded.md)
    'ft_all_turned_heads_roll45': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'p_roll': 0.3, 'roll_degrees': 45.0},  # turned by up to 45 degrees: with --any-angle's quarter turns, every angle lies within 45 of one
    # the fast model: the shipped recipe with the decoder cut at stride 4 (run with --init facemask/weights/facemask_mobilenetv2.pt)
    'fast_stride4': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'decoder_channels': [96, 48, 32]},
    'fast_stride4_distill': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'decoder_channels': [96, 48, 32], 'teacher': str(REPO/'facemask/weights/facemask_mobilenetv2.pt'), 'fit_head': 20},
    'fast_stride4_distill_faces': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'decoder_channels': [96, 48, 32], 'teacher': str(REPO/'facemask/weights/facemask_mobilenetv2.pt'), 'fit_head': 20, 'distill_noface': False},
    'fast_stride4_distill_frozen': NEGATIVES | OCCLUDERS | TONE | LOSS | TURNED_HEADS | {'decoder_channels': [96, 48, 32], 'teacher': str(REPO/'facemask/weights/facemask_mobilenetv2.pt'), 'fit_head': 20, 'freeze_encoder': True},
    'fast_stride2_distill_frozen': STRIDE2_STUDENT | {'fit_head': 20},  # only the 320x320 stage cut (network_profile.md)
    'fast_stride2_distill_frozen_faces': STRIDE2_STUDENT | {'fit_head': 20, 'distill_noface': False},  # no teacher on face-free images
    'fast_stride2_head_only': STRIDE2_STUDENT | {'fit_head': 40},  # run with --epochs 0: the head fitted, nothing trained
    'fast_stride2_head_only_clip3': STRIDE2_STUDENT | {'fit_head': 40, 'fit_head_clip': 3.0},  # the readout fitted near the mask's edge (logits clipped to +-3)
    # a 256 px input for the CPU default (run with --init runs/generalisation/fast_stride2_head_only/presence.pt: the default's own network)
    'fast256_frozen': STRIDE2_STUDENT | {'input_size': 256},  # its decoder and readout retrained for 256 px, the encoder and presence head kept
    'fast256': STRIDE2_STUDENT | {'input_size': 256, 'freeze_encoder': False},  # all retrained for 256 px, the presence head refitted
}

def init_presence(weights, init, out):
    "Write `out`: checkpoint `weights` (trained with its encoder frozen at `init`'s) with `init`'s presence head and threshold."
    import dataclasses, torch
    from facemask.model import load_model, save_model
    student, teacher = load_model(weights), load_model(init)
    assert teacher.config.presence, f'{init}: no presence head to keep'
    assert all(torch.equal(a, b) for a, b in zip(student.encoder.state_dict().values(), teacher.encoder.state_dict().values())), f'{weights}: its encoder is not {init}\'s'
    student.config = dataclasses.replace(student.config, presence=True, presence_threshold=teacher.config.presence_threshold)
    student.presence = teacher.presence
    save_model(student, out, kept_presence=str(init))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('runs', nargs='*', help=f'which runs (default: all of {list(RUNS)})')
    p.add_argument('--epochs', type=int, default=6); p.add_argument('--lr', type=float, default=5e-4, help='unless the run sets its own')
    p.add_argument('--init', default=str(REPO/'runs/shipped_824b6da.pt'), help='the checkpoint to fine-tune (see above)')
    p.add_argument('--data', default=str(REPO/'data/bench-prepared')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--out', default=str(REPO/'runs/generalisation'))
    p.add_argument('--list', action='store_true', help='print name=checkpoint pairs for benchmarks/generalisation.py and stop')
    p.add_argument('--seed', type=int, default=0, help='training seed; runs with another seed than 0 are named <run>_seed<N>')
    p.add_argument('--presence', action='store_true', help='also fit the face-presence head of each run (<run>/presence.pt; --list: name+presence=...)')
    a = p.parse_args()
    names = a.runs or list(RUNS)
    dirname = lambda name: name if a.seed == 0 else f'{name}_seed{a.seed}'
    if not Path(a.init).exists(): sys.exit(f'{a.init}: missing; write it with: git show 824b6da:facemask/weights/facemask_mobilenetv2.pt > {a.init}')
    if a.list: print(' '.join(f'{dirname(n)}={a.out}/{dirname(n)}/last.pt' + (f' {dirname(n)}+presence={a.out}/{dirname(n)}/presence.pt' if a.presence else '') for n in names)); return
    from facemask.data import prepare_multipose
    prepare_multipose(SHARED/'multipose', TURNED_HEADS['extra_data'])
    for name in names:
        out = Path(a.out)/dirname(name)
        if (out/'history.json').exists() and len(json.loads((out/'history.json').read_text())) >= a.epochs: continue
        cmd = [sys.executable, '-c', 'import sys; from facemask.cli import main; sys.exit(main())', 'train', '--config', str(REPO/'configs/default.json'), '--data', a.data, '--hands', a.hands,
               '--out', str(out), '--init', a.init, '--epochs', str(a.epochs), '--lr', str(RUNS[name].get('lr', a.lr)), '--seed', str(a.seed), '--resume']
        cmd += [f'--set={k}={json.dumps(v) if not isinstance(v, str) else v}' for k, v in RUNS[name].items() if k != 'lr']
        print(' '.join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    for name in names if a.presence else []:
        out = Path(a.out)/dirname(name)
        if (out/'presence.pt').exists(): continue
        if RUNS[name].get('freeze_encoder'):  # the init's encoder, so the init's presence head sees the features it was fitted on
            print(f'{out}/presence.pt: the presence head of {a.init}', flush=True); init_presence(out/'last.pt', a.init, out/'presence.pt'); continue
        cmd = [sys.executable, '-c', 'import sys; from facemask.cli import main; sys.exit(main())', 'fit-presence', str(out/'last.pt'), '-o', str(out/'presence.pt'),
               '--data', a.data, '--extra-data', TURNED_HEADS['extra_data'], '--noface', NEGATIVES['noface'], '--hands', a.hands]
        print(' '.join(cmd), flush=True)
        subprocess.run(cmd, check=True)

if __name__ == '__main__': main()
