import json
from conftest import SHARED, needs_shared

@needs_shared
def test_evaluate_scores_weights_of_your_own(tmp_path):
    "`facemask evaluate --weights CKPT` scores that checkpoint; the float32 checkpoint is the default only without weights."
    from facemask.cli import main
    from facemask.data import prepare
    from facemask.inference import default_weights
    data = prepare(SHARED/'CelebAMask-HQ-mini', tmp_path/'prepared', size=128, limit=12)
    args = ['evaluate', '--data', str(data), '--weights', str(default_weights(accurate=True)), '--hands', str(SHARED/'hands'), '--limit', '2', '--device', 'cpu', '-o', str(tmp_path/'report.json')]
    assert main(args) == 0
    report = json.loads((tmp_path/'report.json').read_text())
    assert set(report) == {'clean', 'hands'} and report['clean']['n'] == 2 and report['clean']['pooled_iou'] > 0.8
