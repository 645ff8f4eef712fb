"""One module per benchmark kind: predictivity (one recording, both directions), population (a
multi-subject population with the animal baseline and masquerade), RSA/CKA (RDMs), IATC (neural
only), and a user's own recording (:func:`~neuroalign.bench.kinds.own.from_data`)."""

from neuroalign.bench.kinds.iatc import IATCBenchmark
from neuroalign.bench.kinds.population import PopulationBenchmark, synthetic_population
from neuroalign.bench.kinds.predictivity import PredictivityBenchmark, model_units
from neuroalign.bench.kinds.rsa import RSABenchmark

__all__ = [
    "IATCBenchmark",
    "PopulationBenchmark",
    "PredictivityBenchmark",
    "RSABenchmark",
    "model_units",
    "synthetic_population",
]
