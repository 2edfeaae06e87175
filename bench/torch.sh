# Sourced by the bench/ scripts: PyTorch as a peer. Debian's python3-torch
# does its matrix products through whichever libblas.so.3 is installed —
# the reference BLAS (about 5 GFLOP/s) unless libopenblas0-pthread is —
# and these machines set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which pin
# OpenBLAS to older kernels. torch_check fails unless PyTorch runs on
# OpenBLAS; torch_run runs a PyTorch process with both variables unset and
# OPENBLAS_NUM_THREADS set to the threads compared (only there: xent's
# processes keep the environment).
PY=${PY:-/usr/bin/python3}

torch_check() {
	local maps
	maps=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" -c \
		'import torch; torch.ones(64, 64) @ torch.ones(64, 64); print(open("/proc/self/maps").read())') || {
		echo "bench: PyTorch does not run: apt-get install -y python3-torch python3-torchvision libopenblas0-pthread" >&2
		return 1
	}
	if ! grep -q openblas <<<"$maps"; then
		echo "bench: PyTorch runs on the reference BLAS, not OpenBLAS: apt-get install -y libopenblas0-pthread" >&2
		return 1
	fi
}

# torch_run THREADS SCRIPT ARGS…
torch_run() {
	local threads=$1
	shift
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" "$PY" "$@"
}

torch_version() { torch_run 1 -c 'import torch; print(torch.__version__)'; }
