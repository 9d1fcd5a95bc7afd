"""PyTorch's own times for torchvision ResNet-18 and ResNet-50 (fp32, eval, random weights),
batch 1 and 16, on the GPU: eager, CUDA graphs (one captured forward, replayed) and
torch.compile (default mode), each the mean of 200 runs after warm-up, synchronized.
The anchor for Kiln's CUDA figures (benchmarks/cuda_vs_pytorch.sh). PyTorch's defaults
let cuDNN use TF32 for convolutions; the 'fp32' columns turn TF32 off for cuDNN and cuBLAS
(strict fp32, what Kiln computes), the compiled model timed again under that setting."""
import os, sys, time
import torch, torchvision

ITERS = 200


def timed(fn):
    for _ in range(20):
        fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(ITERS):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) * 1e3 / ITERS


def graph_time(model, x):
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            model(x)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        model(x)
    return timed(g.replay)


def tf32(on):
    # cuDNN's convolutions and cuBLAS's matrix products (the dense layer) both
    torch.backends.cudnn.allow_tf32 = on
    torch.backends.cuda.matmul.allow_tf32 = on


def main():
    torch.manual_seed(0)
    models = sys.argv[1:] or ["resnet18", "resnet50"]
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    print(f"{'model':10} {'batch':>5} {'eager':>8} {'graph':>8} {'compile':>8} {'eager fp32':>10} "
          f"{'graph fp32':>10} {'compile fp32':>12} (ms)")
    with torch.inference_mode():
        for name in models:
            model = getattr(torchvision.models, name)().cuda().eval()
            for batch in (1, 16):
                x = torch.randn(batch, 3, 224, 224, device="cuda")
                tf32(True)
                eager = timed(lambda: model(x))
                graph = graph_time(model, x)
                compiled = torch.compile(model)
                comp = timed(lambda: compiled(x))
                tf32(False)
                eager32 = timed(lambda: model(x))
                graph32 = graph_time(model, x)
                comp32 = timed(lambda: compiled(x))
                tf32(True)
                torch._dynamo.reset()
                print(f"{name:10} {batch:5d} {eager:8.3f} {graph:8.3f} {comp:8.3f} {eager32:10.3f} "
                      f"{graph32:10.3f} {comp32:12.3f}", flush=True)


if __name__ == "__main__":
    main()
