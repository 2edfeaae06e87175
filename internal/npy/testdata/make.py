# Makes the .npy fixtures of internal/npy's tests with NumPy itself:
#   /usr/bin/python3 make.py   (run in this directory)
import numpy as np
from numpy.lib import format as fmt

np.save("f4_2x3.npy", np.array([[1.5, -2, 3], [4, 5e-8, -6e30]], dtype="<f4"))
np.save("f8_scalar.npy", np.array(0.1, dtype="<f8"))
np.save("f8_big_endian.npy", np.array([1.25, -3.5, 1e300], dtype=">f8"))
np.save("i8_4.npy", np.array([0, -100, 9, 2**40], dtype="<i8"))
np.save("i4_2x2.npy", np.array([[1, -2], [3, -2**31]], dtype="<i4"))
np.save("u1_3.npy", np.array([0, 7, 255], dtype="u1"))
np.save("i2_big_endian.npy", np.array([-5, 300], dtype=">i2"))
np.save("b1_2.npy", np.array([True, False]))
np.save("f4_empty_0x3.npy", np.zeros((0, 3), dtype="<f4"))
np.save("f8_fortran.npy", np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))
np.save("c8_complex.npy", np.array([1 + 2j], dtype="<c8"))
for version in [(2, 0), (3, 0)]:
    with open("f8_v%d.npy" % version[0], "wb") as f:
        fmt.write_array(f, np.array([[7.0], [8.0]]), version=version)
