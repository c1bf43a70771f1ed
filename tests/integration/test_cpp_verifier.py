"""The C++ verifier library (server/src/verifier, its example program verify_example) against
the real sessiond: it fetches the JWKS, accepts a fresh access token for every asymmetric
algorithm, rejects a tampered one, and — following the revocation stream — rejects the token of a
signed-out session within 1 s of the sign-out response (issue 5's bound), typically in a few ms.

CTest passes the example's path in SESSIOND_VERIFY_EXAMPLE; run by hand, it is looked for in the
build tree next to SESSIOND_BIN.
"""

import os
import subprocess
import time
import unittest
from pathlib import Path

from sessiond_harness import Server, binary_path, unique_email


def example_path() -> str:
    explicit = os.environ.get("SESSIOND_VERIFY_EXAMPLE")
    if explicit:
        return explicit
    return str(Path(binary_path()).parent / "server/src/verifier/verify_example")


class CppVerifierTest(unittest.TestCase):
    def run_algorithm(self, alg: str) -> float:
        server = Server(args=["--set", f"jwt.algorithm={alg}"])
        try:
            server.start()
            device = server.client()
            self.assertEqual(device.sign_up(email=unique_email()).status, 200)
            token = device.get("/api/auth/token").json["token"]
            proc = subprocess.Popen([example_path(), "--base-url", server.origin, "--alg", alg],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, bufsize=1)
            try:
                def check(line: str) -> str:
                    proc.stdin.write(line + "\n")
                    proc.stdin.flush()
                    return proc.stdout.readline().strip()

                self.assertTrue(check(token).startswith("OK sub="), alg)
                # One character in the middle of the signature changed (its last characters
                # may carry padding bits, and may already be whatever we would write).
                header, payload, signature = token.split(".")
                flipped = "B" if signature[10] == "A" else "A"
                tampered = f"{header}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
                self.assertIn("BAD_SIGNATURE", check(f"Bearer {tampered}"))
                self.assertTrue(check("not-a-jwt").startswith("REJECTED"))

                self.assertEqual(device.sign_out().status, 200)
                signed_out = time.monotonic()
                while True:
                    answer = check(token)
                    elapsed = time.monotonic() - signed_out
                    if "REVOKED" in answer:
                        break
                    self.assertTrue(answer.startswith("OK"), answer)
                    self.assertLess(elapsed, 1.0, "verifier still accepts a revoked token")
                proc.stdin.close()
                self.assertEqual(proc.wait(timeout=10), 1)  # One token did not verify.
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            return elapsed
        finally:
            server.stop()
            server.cleanup()

    def test_every_asymmetric_algorithm_and_revocation_within_a_second(self):
        for alg in ("EdDSA", "ES256", "RS256"):
            with self.subTest(alg=alg):
                elapsed = self.run_algorithm(alg)
                print(f"[ figure ] C++ verifier ({alg}) refused the revoked token "
                      f"{elapsed * 1000:.1f} ms after the sign-out response")


if __name__ == "__main__":
    unittest.main()
