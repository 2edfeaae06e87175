// Package xent computes the cross-entropy family of losses that train
// convolutional networks — softmax (categorical) cross-entropy, softmax
// cross-entropy with probability targets, multi-label softmax with the 1/M
// factor, sigmoid (binary) cross-entropy, focal loss on sigmoid and on
// softmax outputs, and the asymmetric loss — giving each loss's value and
// its exact gradient with respect to the logits in one fused pass.
//
// # The tutorial's names
//
// The losses go by many names. With x the logits (the tutorial's scores z),
// p = softmax(x) over the classes and σ the logistic function:
//
//	name(s)                                        function                        per position or element
//	softmax loss, categorical cross-entropy,       SoftmaxCrossEntropy             −log p_y
//	  multinomial logistic loss, log loss
//	cross-entropy with soft/probability labels     SoftmaxProbCrossEntropy         −Σ_c t_c log p_c
//	softmax loss with several positives (1/M)      MultiLabelSoftmaxCrossEntropy   −(1/M) Σ_c y_c log p_c
//	binary cross-entropy, sigmoid cross-entropy,   SigmoidCrossEntropy             −t log σ(x) − (1−t) log(1−σ(x))
//	  logistic loss
//	focal loss (Lin et al. 2017, RetinaNet)        SigmoidFocalLoss                −α_t (1−p_t)^γ log p_t
//	focal loss on softmax outputs                  SoftmaxFocalLoss                −α_y (1−p_y)^γ log p_y
//	asymmetric loss (Ridnik et al. 2021, ASL)      AsymmetricLoss                  −t (1−p)^γ+ log p − (1−t) p_m^γ− log(1−p_m)
//
// and their gradients with respect to the logits are p − e_y, p − t (for
// rows of t summing to 1), p − y/M, σ(x) − t, and the focal derivatives
// given in each function's comment. Each function's comment states the full
// formula with its options: class weights, pos_weight, ignore index, label
// smoothing, α and γ, the asymmetric loss's γ+, γ− and margin m.
//
// Two options go beyond PyTorch's: Poly-1 (Leng et al. 2022) on the two
// softmax cross-entropies, PolyEpsilon, which adds ε·Σ_c w_c t_c (1 − p_c);
// and sample weights on every loss, SampleWeight, one weight per position
// that multiplies its loss and counts it that many times in the mean.
// ClassBalancedWeights gives Cui et al.'s (2019) class weights from class
// counts.
//
// # Layout
//
// Logits are a flat row-major slice with a shape (N, C, d1, …, dk), classes
// on axis 1, as in PyTorch: (N, C) for classification, (N, C, H, W) for
// dense prediction. A position is one (n, d1…dk). Class-index targets have
// one value per position, probability and multi-hot targets the logits'
// shape. Output.Grad receives the gradient in the logits' shape and
// Output.Losses the per-position (per-element, for the sigmoid losses)
// losses; both are owned by the caller, and a call allocates nothing.
//
// # Semantics
//
// Values, gradients and reductions are PyTorch's (CrossEntropyLoss,
// BCEWithLogitsLoss, torchvision.ops.sigmoid_focal_loss), proven against
// it on reference cases. The reductions are Mean (PyTorch's weighted mean
// for SoftmaxCrossEntropy), Sum, None (with an optional upstream gradient),
// and BatchMean, the sum divided by N, as the tutorial and Caffe's
// BATCH_SIZE normalization do. One deliberate difference: a mean over
// nothing (every target ignored, no positive label, N = 0) is 0 with a zero
// gradient, where PyTorch gives NaN.
//
// Each function accepts float32 and float64. Log-probabilities are x −
// logsumexp(x) with the row maximum taken out, never log(softmax(x)), so
// logits of ±1e4 give finite, correct results; a NaN logit makes its own
// position's loss and gradient NaN and touches nothing else.
//
// # Speed
//
// The inner loops run in AVX-512 or AVX2 assembly where the machine has it
// (internal/kernel: exp within 2 ulp, sums carried in float64) and in plain
// Go, computing each element in float64, elsewhere or with the build tag
// noasm. The work is split into fixed blocks of about 64K logits that run
// on up to Options.Workers goroutines (0: GOMAXPROCS) and whose partial
// sums are added in block order, so the result is the same to the bit for
// any worker count. Once its internal pools are warm a call allocates
// nothing. The softmax family on (N, C, d1…dk) shapes gathers its strided
// rows into row-major tiles for the kernels and scatters the gradient back.
//
// # Errors
//
// Every function validates all of its input before it writes anything: a
// bad shape or length (ErrShape), a target out of range (ErrTarget), or an
// option out of range (ErrOption) returns an *Error naming the position and
// the value, and leaves every output buffer untouched. No input makes a
// function panic.
//
// # Choosing a loss at run time
//
// Evaluate takes a Config naming the loss (a Loss, as ParseLoss reads it)
// with its options, for code that picks the loss from a flag or a file.
// Specs describes every loss — its targets, whether it is per element, its
// options with their PyTorch names and flags — for code that treats the
// losses alike, as the command line and the GoMLX adapter do.
package xent
