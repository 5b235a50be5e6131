from hf_llmgen.generation.parse import CandidateFilter, clean, normalise, sentence_keys, split_candidates


def test_numbered_list_is_split_and_numbering_stripped():
    out = "Sure, here are three reviews:\n1. A gripping film.\n2) Dull and long.\n3. \"Loved every minute.\""
    assert split_candidates(out, 3) == ["A gripping film.", "Dull and long.", "Loved every minute."]


def test_single_text_keeps_its_lines_together_and_drops_a_tag():
    out = "Movie review: The acting is wooden\nand the jokes fall flat."
    assert split_candidates(out, 1) == ["The acting is wooden and the jokes fall flat."]


def test_continuation_lines_join_the_previous_item():
    assert split_candidates("1. First part\nstill first\n2. Second", 2) == ["First part still first", "Second"]


def test_clean_strips_quotes_and_spacing():
    assert clean('  "What a  film!"  ') == "What a film!"


def test_clean_cuts_the_models_commentary_after_the_text():
    assert clean("A highlight of the film. In this sentence, I have replaced the elements from the review.") == (
        "A highlight of the film.")
    assert clean('"Dull and slow." This review uses negative words like dull.') == "Dull and slow."
    assert clean("What a waste of time! Note: the sentiment is negative.") == "What a waste of time!"
    assert clean("I have seen better films. I used the word dull twice.") == "I have seen better films."
    assert clean("i feel so low. i hope tomorrow is better.") == "i feel so low. i hope tomorrow is better."
    assert clean("In this film, the hero wins.") == "In this film, the hero wins."


def test_clean_drops_part_tags_and_repeated_sentences():
    assert clean("The film is dull. Sentence 2: The story is thin. Sentence 2: The film is dull.") == (
        "The film is dull. The story is thin.")
    assert clean("I'm so lonely. I'm so lonely! I'm so lonely") == "I'm so lonely."
    assert clean("sentence 1: a quiet start. A loud end.") == "a quiet start. A loud end."
    assert clean("we read text 2: it was dull.") == "we read text 2: it was dull."


def test_normalise_ignores_case_and_punctuation():
    assert normalise("Great, GREAT film!!") == normalise("great great film")


def test_filter_counts_every_drop_by_reason():
    f = CandidateFilter(min_words=3)
    shown = ["The plot wanders for two hours and never finds anything worth saying."]
    assert f.accept("A lovely, moving story about family.", shown)
    assert not f.accept("", shown)
    assert not f.accept("Too short", shown)
    assert not f.accept("I'm sorry, but I cannot write that review.", shown)
    assert not f.accept("The plot wanders for two hours and never finds anything worth saying!", shown)
    assert not f.accept("A lovely, moving story about family.", shown)
    assert not f.accept("a lovely moving story about FAMILY", shown)
    assert dict(f.dropped) == {
        "empty": 1,
        "too_short": 1,
        "refusal": 1,
        "prompt_echo": 1,
        "duplicate": 1,
        "near_duplicate": 1,
    }


def test_remembered_seed_examples_are_not_accepted_again():
    f = CandidateFilter()
    f.remember("The plot wanders for two hours.")
    assert not f.accept("The plot wanders for two hours.", [])
    assert f.dropped["duplicate"] == 1


def test_a_looping_text_is_dropped_as_repetitive():
    f = CandidateFilter()
    assert not f.accept("🌟 Hello, see you later, oh, oh, oh, okay, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok", [])
    assert f.dropped == {"repetitive": 1}
    assert f.accept("ok ok ok see you", [])  # short texts may repeat a word
    assert f.accept("Running late, save me a seat at the back, I will be there in ten minutes", [])


def test_a_text_ending_in_a_loop_is_dropped_as_repetitive():
    f = CandidateFilter()
    loop = ("A brilliant performance in a light-hearted film with a bright, witty story. The film is uplifting, "
            "heartfelt, funny, light-hearted, funny, funny, funny, funny, funny, funny, funny, funny, funny, funny")
    assert not f.accept(loop, [])
    assert f.dropped == {"repetitive": 1}
    assert f.accept("i feel like the day went by so fast and i did not get to say half of what i wanted to say", [])
    phrases = ("A dull retelling of a classic trope they despise, a disappointing retelling of a classic trope they "
               "despise, a misguided retelling of a classic trope they despise")
    assert not f.accept(phrases, [])
    assert f.dropped == {"repetitive": 2}


def test_the_model_talking_about_the_task_is_dropped_as_meta_text():
    f = CandidateFilter()
    assert not f.accept("Here's a possible version of your answer using a specific format: a fine film.", [])
    assert not f.accept("What a great movie! I'd love to hear more about what you meant to add.", [])
    assert not f.accept("The movie: awful. I made a few changes while writing my responses.", [])
    assert not f.accept("The films must fit this description: a dull plot.", [])  # the targeted prompt, copied
    assert not f.accept("These texts share a common thread of boredom.", [])  # a hypothesis, copied
    assert not f.accept("This is a news article featuring stories related to the economy and jobs.", [])
    assert not f.accept('Markets fell. It has the attributes of "Business" and "Economics."', [])
    assert not f.accept("A News article with the label 'Business' must contain at least three sentences.", [])
    assert not f.accept("A negative review told as a joke, with no openly negative word.", [])  # a text named
    assert not f.accept("A short positive phrase whose words sound dark.", [])
    assert not f.accept("The film is great. Your entire response should only contain 2 sentences.", [])
    assert not f.accept("These two sentences convey a message of disappointment without negative words.", [])
    assert not f.accept("This review contains a critical element about the film.", [])
    assert not f.accept("You are an AI assistant designed to assist users with a wide range of tasks.", [])
    assert not f.accept("I'm ready to help. I'm a no-nonsense AI assistant with a no-nonsense attitude.", [])
    assert f.accept("Google unveiled an AI assistant that books flights and answers email for its users.", [])
    assert f.accept("This post should show that the sub has changed for the worse.", [])  # a real Reddit reply
    assert f.accept("A dull remake that wastes a gifted cast.", [])
    assert f.accept("A message claiming to be from the rebels calls for the release of the hostages.", [])
    assert f.accept("The story is bogus and the filmmaking clumsy.", [])
    assert f.dropped == {"meta_text": 15}


def test_a_text_restating_its_hypothesis_is_dropped_as_hypothesis_echo():
    f = CandidateFilter()
    hypothesis = "World news that reports oil prices or markets as part of a political story."
    assert not f.accept("World news that reports a summit in Geneva.", [], hypothesis)  # its first 3 words
    assert not f.accept("Leaders met as oil prices or markets as part of the talks fell.", [], hypothesis)  # 5 in a row
    assert f.accept("Oil prices rose after the summit in Geneva ended without a deal.", [], hypothesis)
    assert f.accept("World news that reports a summit in Geneva.", [])  # no hypothesis: nothing to restate
    assert f.dropped == {"hypothesis_echo": 2}


def test_template_placeholders_are_dropped_unless_the_examples_hold_them():
    f = CandidateFilter()
    assert not f.accept("Nothing beats a critic's love for [genre] and a unique writing [style].", [])
    assert f.dropped == {"placeholder": 1}
    assert f.accept("We need more space for [NAME] on the boards.", ["Thanks [NAME], that was kind of you."])


def test_sentences_of_the_instructions_are_cut_from_a_text():
    instructions = frozenset(sentence_keys("Write one short movie review.\nReply with the movie review only.", 3))
    output = "The movie is dull and boring, devoid of any spark. Reply with the movie review only."
    assert split_candidates(output, 1, instructions) == ["The movie is dull and boring, devoid of any spark."]
    assert split_candidates(output, 1) == [output]  # without the prompt, nothing to compare with


def test_a_first_line_ending_in_a_colon_introduces_the_text_and_is_not_part_of_it():
    assert split_candidates("Here are some tips to help you get started:\n- Keep it short\n- Be kind", 1) == [
        "Keep it short", "Be kind"]
    assert split_candidates("Reminder: the bill is due today", 1) == ["the bill is due today"]  # one line: a tag
