"""Distillation: the loss equals a hand computation, and a distilled small student learns the digits."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
nn = torch.nn

import mcuforge
from mcuforge.compress.distill import distillation_loss
from mcuforge.compress.training import accuracy, train_classifier
from tests.compress.digits import digits


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_loss_matches_hand_computation():
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(5, 4)) * 3, rng.normal(size=(5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    T, alpha = 4.0, 0.7
    p, q = softmax(t / T), softmax(s / T)
    kl = np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1))
    ce = np.mean(-np.log(softmax(s)[np.arange(5), labels]))
    expected = alpha * T * T * kl + (1 - alpha) * ce
    got = distillation_loss(torch.tensor(s), torch.tensor(t), torch.tensor(labels), T, alpha)
    assert float(got) == pytest.approx(expected, rel=1e-10)


def test_loss_extremes_and_arguments():
    s, t, y = torch.randn(3, 5), torch.randn(3, 5), torch.tensor([1, 2, 3])
    assert float(distillation_loss(s, s, y, alpha=1.0)) == pytest.approx(0.0, abs=1e-6)  # matching the teacher
    assert float(distillation_loss(s, t, y, alpha=0.0)) == pytest.approx(float(nn.functional.cross_entropy(s, y)))
    with pytest.raises(ValueError):
        distillation_loss(s, t, y, T=0.0)
    with pytest.raises(ValueError):
        distillation_loss(s, t, y, alpha=1.5)


def test_distilled_student_learns_digits():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        (x_train, y_train), (x_test, y_test) = digits()
        torch.manual_seed(0)
        teacher = train_classifier(nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                                 nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                                 nn.Flatten(), nn.Linear(128, 10)), (x_train, y_train), epochs=5)
        student = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
        student = mcuforge.distill(teacher, student, (x_train, y_train), T=4.0, alpha=0.7, epochs=8, lr=1e-2)
        teacher_acc, student_acc = accuracy(teacher, x_test, y_test), accuracy(student, x_test, y_test)
        print(f"teacher accuracy {teacher_acc:.4f}, distilled student accuracy {student_acc:.4f} "
              f"({sum(p.numel() for p in student.parameters())} parameters)")
        assert teacher_acc > 0.93
        assert student_acc > 0.9
    finally:
        torch.set_num_threads(threads)
