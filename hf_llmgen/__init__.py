"""hf_llmgen: diverse, accurately labelled text-classification data from LLMs, as a `datasets` builder.

`import hf_llmgen` registers the builder; then `datasets.load_dataset("hf_llmgen", "sst2", num_examples=200)`.
"""

from .generation.settings import GenerationSettings
from .hub import push
from .registration import register
from .task import TaskSpec, TaskSpecError, load_task, preset_names

register()

__version__ = "0.1.0"
__all__ = ["GenerationSettings", "TaskSpec", "TaskSpecError", "load_task", "preset_names", "push"]
