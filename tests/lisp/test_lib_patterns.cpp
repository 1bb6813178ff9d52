// Stdlib prelude, part 20-patterns: state machines, actors, observer, command/query bus,
// event store, strategy/decorator/visitor, pipeline and transducer (reference §6.2).
#include "test_lib_support.hpp"

using namespace lisp_lib_test;

namespace {

const char* const k_door = R"(
(defsm door :initial :closed
  :transitions (list (list :closed :open :opened)
                     (list :opened :close :closed)
                     (list :closed :lock :locked
                           (lambda (s e p) (= p 42))
                           (lambda (s e p) (println "action" s e p))))
  :on-enter (list (list :opened (lambda (s) (println "enter" s))))
  :on-exit (list (list :closed (lambda (s) (println "exit" s))))
  :on-event (list (list :open (lambda (e p) (println "event" e p)))))
)";

std::string door(const std::string& body) { return std::string(k_door) + body; }

}  // namespace

TEST_CASE("state machines fire exit action event and enter hooks in order", "[lisp][stdlib][sm]") {
    CHECK(run_ok(door("(list (sm-current door) (sm-can? door :open) (sm-can? door :close))")) == "(:closed #t #f)");
    CHECK(run_ok(door("(sm-send door :open)")) == "\"exit\" :closed\n\"event\" :open ()\n\"enter\" :opened\n:opened");
    // Unknown events and failing guards leave the state alone.
    CHECK(run_ok(door("(list (sm-send door :bogus) (sm-send door :lock 1) (sm-history door))")) ==
          "(:closed :closed (:closed))");
    CHECK(run_ok(door("(sm-send door :lock 42) (list (sm-current door) (sm-history door))")) ==
          "\"exit\" :closed\n\"action\" :closed :lock 42\n(:locked (:locked :closed))");
    CHECK(run_ok(door("(sm-send door :open) (sm-send door :close) (sm-history door)")) ==
          "\"exit\" :closed\n\"event\" :open ()\n\"enter\" :opened\n(:closed :opened :closed)");
    CHECK(run_ok(door("(sm-send door :open) (list (sm-reset! door) (sm-history door))")) ==
          "\"exit\" :closed\n\"event\" :open ()\n\"enter\" :opened\n(:closed (:closed))");
    CHECK(run_ok(door("(door :whatever)")) == "\"unknown SM message\"\n()");
}

TEST_CASE("state machine specs are tagged plists and rows are looked up by state and event", "[lisp][stdlib][sm]") {
    check_outputs({
        {"(sm-spec :initial :a)", "(:sm-spec :initial :a)"},
        {"(list (sm-spec? (sm-spec)) (sm-spec? (list 1)) (sm-spec? ()))", "(#t #f #f)"},
        {"(sm-spec-get (sm-spec :initial :a :transitions ()) :initial)", ":a"},
        {"(sm-lookup-row (list (list :a :go :b) (list :b :go :c)) :b :go)", "(:b :go :c)"},
        {"(sm-lookup-row (list (list :a :go :b)) :a :stop)", "()"},
        {"(define m (make-sm (sm-spec :initial 0 :on-enter (list (list 0 (lambda (s) (println \"in\" s)))))))"
         " (sm-current m)",
         "\"in\" 0\n0"},
        {"(define log ()) (sm-fire-state-actions (list (list :a (lambda (s) (set! log (cons s log)))) (list :b 1)) :a) "
         "log",
         "(:a)"},
        {"(sm-fire-event-actions (list (list :e (lambda (e p) (println e p)))) :e 5)", ":e 5\n()"},
    });
    // A transition row whose guard is not callable fails when the event is sent.
    CHECK(run_err("(define m (make-sm (sm-spec :initial :a :transitions '((:a :go :b 5))))) (sm-send m :go)") ==
          "not-callable");
}

TEST_CASE("actors queue messages and fold them through the behaviour", "[lisp][stdlib][actor]") {
    const std::string setup = "(defactor counter 0 (lambda (s m) (+ s m)))";
    CHECK(run_ok(setup +
                 "(list (actor-tell counter 5) (actor-tell counter 6) (counter :mailbox) (actor-empty? counter))") ==
          "(0 0 (5 6) #f)");
    CHECK(run_ok(setup +
                 "(actor-tell counter 5) (actor-tell counter 6)"
                 "(list (actor-step! counter) (actor-state counter) (actor-drain! counter) (actor-empty? counter))") ==
          "(5 5 11 #t)");
    CHECK(
        run_ok(setup +
               "(dotimes (i 4) (actor-tell counter 1))"
               "(list (actor-run! counter 3) (actor-run! counter 0) (actor-run! counter 10) (actor-step! counter))") ==
        "(3 3 4 4)");
    CHECK(run_ok(setup + "(list (counter :bogus) (actor-step! counter) (actor-drain! counter))") == "(() 0 0)");
    CHECK(run_ok("(define a (make-actor (list) (lambda (s m) (cons m s)))) (dotimes (i 1000) (actor-tell a i))"
                 "(length (actor-drain! a))") == "1000");
    CHECK(run_err(setup + "(actor-tell counter :x) (actor-step! counter)") == "type-mismatch");
}

TEST_CASE("subjects call subscribers newest first and can unsubscribe", "[lisp][stdlib][observer]") {
    CHECK(run_ok("(define s (make-subject)) (define f1 (lambda (m) (println \"f1\" m)))"
                 "(subject-subscribe! s f1) (subject-subscribe! s (lambda (m) (println \"f2\" m)))"
                 "(subject-emit! s 1) (subject-unsubscribe! s f1) (subject-emit! s 2) (length (s :subs))") ==
          "\"f2\" 1\n\"f1\" 1\n\"f2\" 2\n1");
    CHECK(run_ok("(define s (make-subject)) (list (subject-emit! s 1) (subject-subscribe! s inc) (s :bogus))") ==
          "(() #<closure (x)> ())");
}

TEST_CASE("the bus dispatches commands and queries and reports unknown names", "[lisp][stdlib][bus]") {
    const std::string setup =
        "(define bus (make-bus))"
        "(defcommand bus :greet (name) (println \"hi\" name) :ok)"
        "(defquery bus :sum (a b) (+ a b))";
    CHECK(run_ok(setup + "(list (dispatch-command bus :greet \"bob\") (dispatch-query bus :sum 1 2))") ==
          "\"hi\" \"bob\"\n(:ok 3)");
    CHECK(run_ok(setup + "(list (dispatch-command bus :nope) (dispatch-query bus :nope 1))") ==
          "\"no command: nope\"\n\"no query: nope\"\n(() ())");
    // Re-registering shadows the older handler; register returns the name.
    CHECK(run_ok(setup + "(list (register-query! bus :sum -) (dispatch-query bus :sum 5 1))") == "(:sum 4)");
    CHECK(run_ok(setup + "(register-command! bus :x inc)") == ":x");
    CHECK(run_err(setup + "(dispatch-query bus :sum 1)") == "arity-mismatch");
    CHECK(run_err(setup + "(dispatch-command bus \"str\")") == "type-mismatch");
}

TEST_CASE("event stores keep history oldest first and project with a fold", "[lisp][stdlib][events]") {
    CHECK(run_ok("(define es (make-event-store))"
                 "(list (event-history es) (event-append! es 1) (event-append! es 2) (event-history es)"
                 " (event-project es + 10) (event-project es (lambda (acc e) (cons e acc)) ()))") ==
          "(() 1 2 (1 2) 13 (2 1))");
    CHECK(run_ok("(type-of (event-history (make-event-store)))") == ":list");
}

TEST_CASE("strategies fall back to :default decorators wrap visitors dispatch on tags", "[lisp][stdlib][strategy]") {
    check_outputs({
        {"(defstrategy st :fast (lambda (x) (* x 2)) :default (lambda (x) x))"
         "(list (strategy-call st :fast 4) (strategy-call st :other 4) (st :fast 1))",
         "(8 4 2)"},
        {"((make-strategy :a inc) :b 1)", "\"no strategy variant matched + no :default\"\n()"},
        {"(define d (decorate (lambda (x) (* x 10)) :before (lambda (x) (println \"before\" x))"
         " :after (lambda (r x) (println \"after\" r x)))) (d 3)",
         "\"before\" 3\n\"after\" 30 3\n30"},
        {"((decorate inc :around (lambda (f x) (f (f x)))) 1)", "3"},
        {"((decorate +) 1 2 3)", "6"},
        {"(defvisitor v :num (lambda (n) (* n 2)) :pair (lambda (a b) (+ a b)) :default (lambda (&rest r) r))"
         "(list (visit v (list :num 4)) (visit v (list :pair 1 2)) (visit v (list :zz 1)) (visit v ()))",
         "(8 3 (1) ())"},
        {"(visit (make-visitor :a (lambda () :no-args)) (list :a))", ":no-args"},
        {"((make-visitor) (list :x))", "\"no visitor matched tag\"\n()"},
    });
}

TEST_CASE("pipelines run stages in order and call matching hooks newest first", "[lisp][stdlib][pipeline]") {
    CHECK(run_ok("(define p (make-pipeline (list (list :a inc) (list :b (lambda (x) (* x 3))))))"
                 "(pipeline-on-stage! p :* (lambda (n i o) (println \"all\" n i o)))"
                 "(pipeline-on-stage! p :b (lambda (n i o) (println \"b\" n i o)))"
                 "(pipeline-run! p 1)") == "\"all\" :a 1 2\n\"b\" :b 2 6\n\"all\" :b 2 6\n6");
    CHECK(run_ok("(list (pipeline-run! (make-pipeline ()) 5) (pipeline-on-stage! (make-pipeline ()) :a inc)"
                 " (length ((make-pipeline (list (list :a inc))) :stages)))") == "(5 () 1)");
}

TEST_CASE("transducers map inputs to outputs and keep state on unknown input", "[lisp][stdlib][transducer]") {
    const std::string setup =
        "(define t (make-transducer :initial :a :transitions (list (list :a 0 :b :x) (list :b 1 :a :y))))";
    CHECK(run_ok(setup +
                 "(list (transducer-feed! t 0) (transducer-state t) (transducer-feed! t 7) (transducer-state t))") ==
          "(:x :b () :b)");
    CHECK(run_ok(setup +
                 "(list (transducer-run! t (list 0 1 0)) (transducer-state t) (type-of (transducer-run! t ())))") ==
          "((:x :y :x) :b :list)");
    CHECK(run_ok("(transducer-state (make-transducer :type :moore))") == "()");
    // A row without an output fails before the state changes.
    CHECK(run_ok("(define t (make-transducer :initial :a :transitions (list (list :a 0 :b))))"
                 "(list (try (transducer-feed! t 0) (catch (e) (error-tag e))) (transducer-state t))") ==
          "(:native-fn :a)");
}

TEST_CASE("pattern helpers report misuse through the calls they make", "[lisp][stdlib]") {
    check_errors({
        {"(sm-send 5 :go)", "not-callable"},
        {"(make-sm 5)", "type-mismatch"},
        {"(actor-tell 5 1)", "not-callable"},
        {"(subject-emit! (make-subject) 1 2)", "arity-mismatch"},
        {"(define s (make-subject)) (subject-subscribe! s 5) (subject-emit! s 1)", "not-callable"},
        {"(define es (make-event-store)) (event-append! es 1) (event-project es 5 0)", "not-callable"},
        {"(pipeline-run! (make-pipeline (list (list :a 5))) 1)", "not-callable"},
        {"(pipeline-run! (make-pipeline 5) 1)", "type-mismatch"},
        {"((decorate inc :before 5) 1)", "not-callable"},
        {"(visit (make-visitor) 5)", "type-mismatch"},
    });
}

TEST_CASE("a reconciler-style program combines records match state machines and maps", "[lisp][stdlib]") {
    const std::string program =
        "(define-record pod (name phase restarts))\n"
        "(define pods (list (make-pod \"a\" :running 0) (make-pod \"b\" :failed 3) (make-pod \"c\" :pending 0) "
        "(make-pod \"d\" :failed 1)))\n"
        "(define (classify p)\n"
        "  (match (list (pod-phase p) (pod-restarts p))\n"
        "    ((:running _) :ok)\n"
        "    ((:failed (? (lambda (n) (> n 2)))) :crashloop)\n"
        "    ((:failed _) :retry)\n"
        "    (_ :wait)))\n"
        "(defsm rollout :initial :idle\n"
        "  :transitions '((:idle :start :progressing) (:progressing :done :complete) (:progressing :fail :degraded)))\n"
        "(define summary (frequencies (map classify pods)))\n"
        "(define actions\n"
        "  (->> pods\n"
        "       (filter (lambda (p) (equal? (pod-phase p) :failed)))\n"
        "       (sort-by (lambda (a b) (compare (pod-restarts a) (pod-restarts b))))\n"
        "       (map (lambda (p) (list :restart (pod-name p))))))\n"
        "(sm-send rollout :start)\n"
        "(sm-send rollout (if (hash-map-has? summary :crashloop) :fail :done))\n"
        "(define n 0)\n"
        "(dotimes (i 1000) (set! n (+ n (case (modulo i 3) ((0) 1) ((1) 2) (else 0)))))\n"
        "(println summary)\n"
        "(println actions)\n"
        "(list (sm-current rollout) (sm-history rollout) n (get-in (hash-map :s summary) (list :s :retry)))\n";
    CHECK(run_ok(program) ==
          "{:ok 1, :crashloop 1, :wait 1, :retry 1}\n"
          "((:restart \"d\") (:restart \"b\"))\n"
          "(:degraded (:degraded :progressing :idle) 1000 1)");
}
