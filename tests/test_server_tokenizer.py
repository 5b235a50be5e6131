"""Which tokenize route a server is asked through, from what it answers (plain answers in, no server)."""

from hf_llmgen.backends.server_tokenizer import server_tokenizer


def answering(routes: dict[tuple[str, str], dict]):
    """A `post` that answers (path, text field) pairs it knows with 200 and that answer, others with 404."""
    asked = []

    def post(path, body):
        asked.append((path, body))
        field = next(iter(body))
        return (200, routes[(path, field)]) if (path, field) in routes else (404, {})

    return post, asked


def test_llama_cpp_server_tokenizes_special_tokens_as_text():
    post, asked = answering({("/tokenize", "content"): {"tokens": [7, 8]}, ("/detokenize", "tokens"): {"content": "x"}})
    encode, decode = server_tokenizer(post)
    assert encode("hello") == [7, 8] and decode(7) == "x"
    assert asked[-2] == ("/tokenize", {"content": "hello", "parse_special": False})


def test_llama_cpp_python_and_vllm_routes_are_found_in_turn():
    post, _ = answering({("/extras/tokenize", "input"): {"tokens": [1]},
                         ("/extras/detokenize", "tokens"): {"text": "a"}})
    encode, decode = server_tokenizer(post)
    assert encode("a") == [1] and decode(1) == "a"
    post, _ = answering({("/tokenize", "prompt"): {"tokens": [2]}, ("/detokenize", "tokens"): {"prompt": "b"}})
    encode, decode = server_tokenizer(post)
    assert encode("b") == [2] and decode(2) == "b"


def test_an_answer_without_tokens_is_not_a_tokenizer():
    post, asked = answering({("/tokenize", "content"): {"tokens": []}})
    assert server_tokenizer(post) is None
    assert [path for path, _ in asked] == ["/tokenize", "/extras/tokenize", "/tokenize"]
