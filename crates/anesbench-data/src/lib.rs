//! Training-data toolkit: AnesCorpus / AnesQA / AnesR1 to LLaMA-Factory, decontamination, train configs.
