from hf_llmgen.backends.base import ContentTokens


def test_special_and_whitespace_tokens_are_left_out_and_each_id_is_decoded_once():
    vocabulary = {1: "Hello", 2: " ", 3: "\n", 4: " world", 5: "<eos>"}
    decoded = []

    def decode(token_id):
        decoded.append(token_id)
        return vocabulary[token_id]

    content = ContentTokens(decode, special=[5])
    assert content([1, 2, 4, 3, 5, 1, 4]) == [1, 4, 1, 4]
    assert content([2, 1]) == [1]
    assert sorted(decoded) == [1, 2, 3, 4]
