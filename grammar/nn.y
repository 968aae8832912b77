/*
 * nn.y — the grammar of .nn files: a pure bison parser that builds the AST.
 *
 * The scanner (nn.l) hands over tokens with their Loc; the actions here
 * build AstModel, AstStmt, AstStep and Expr nodes in the compilation's
 * arena and link them into st->file as soon as they are complete, so an
 * unrecoverable error (end of input inside a model) still leaves the
 * statements parsed so far.
 *
 * Errors: parse.error custom with LAC gives an accurate list of expected
 * tokens, which yyreport_syntax_error turns into one clang-style line
 * ("expected ']' or ',' before newline").  error rules recover at statement
 * level (on newline, ';' or '}'), at model level (the header, up to '{')
 * and at top level (to the end of the line), so one run reports every
 * independent error.
 *
 * Nesting: only expressions nest.  The parser counts the levels that are
 * open (parentheses, function calls, unary minus, '^') as it shifts them,
 * and the nesting of every Expr as it builds it; either going past
 * NNC_MAX_DEPTH is one error and the rest of that activation is skipped,
 * so bison's stack cannot grow without bound.  A left-associative run of
 * '+', '-', '*' or '/' is no deeper than its operands (bison reduces it
 * as it goes): `x + x + ... + x` is accepted at any length, and expr.c
 * bounds the height of the tree it makes before anything recurses on it.
 *
 * api.push-pull both: parse_file uses the pull parser nn_parse; the unit
 * tests drive two push parsers token by token to show that two parses in
 * one process do not interfere.
 */

%require "3.8"
%define api.pure full
%define api.push-pull both
%define api.prefix {nn_}
%define api.token.prefix {TOK_}
%define api.location.type {Loc}
%define parse.error custom
%define parse.lac full
%locations
%expect 0

%param {yyscan_t scanner}
%parse-param {ParseState *st}

%code requires {
#include "nnc.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* Semantic values of lists under construction: head and tail, so that
 * left-recursive rules append in constant time. */
typedef struct ValNode {
	AstValue *value;
	struct ValNode *next;
} ValNode;
typedef struct ValList { ValNode *head, *tail; int n; } ValList;
typedef struct ArgList { AstArg *head, *tail; int n; } ArgList;
typedef struct StepList { AstStep *head, *tail; } StepList;
/* An expression and its nesting: 1 for a number or a name, plus one for
 * each pair of parentheses, call, unary minus or '^' around it (see
 * above). */
typedef struct ExprVal { Expr *e; int depth; } ExprVal;
/* A NUMBER token: its value, whether the scanner reported it (AstValue's
 * bad), and its text as written. */
typedef struct NumTok {
	double num;
	bool is_int, bad;
	const char *text;
} NumTok;
/* A model's name, or name == NULL when the header had a syntax error. */
typedef struct NameTok { const char *name; Loc loc; } NameTok;

/* An open bracket the scanner has seen: '(', '[' or '{'. */
typedef struct Bracket {
	char c;                    /* 0: none, or not recorded (too deep) */
	Loc loc;
} Bracket;

enum { LEX_MAX_OPEN = 128 };   /* brackets remembered for notes */

/* Everything one parse needs: the scanner's extra data and the parser's
 * parse-param.  Lives on parse_file's stack; nothing here is global. */
typedef struct ParseState {
	Arena *arena;
	Diag *diag;
	const Source *src;
	AstFile *file;

	/* Scanner (nn.l). */
	int line, col;             /* position of the next byte, 1-based */
	bool nl_ok;                /* a newline here would end a statement */
	Bracket open[LEX_MAX_OPEN];
	int nopen;                 /* open brackets, may exceed LEX_MAX_OPEN */
	int nparen;                /* of which '(' and '[' above the last '{' */
	Bracket before;            /* innermost open bracket before the last token */
	Loc last, prev;            /* the last two tokens returned */
	Loc text_end;              /* the last token other than a newline */
	int last_kind, prev_kind;  /* their token codes, 0 if none */
	const char *last_text;     /* its text, for IDENT and NUMBER */
	bool stopped;              /* too many errors: the scanner sent EOF */
	int virtual_close;         /* the last token is a '}' the scanner made
	                              up before this keyword (TOK_MODEL...) */

	/* Parser. */
	AstModel *model;           /* the model whose body is being parsed */
	AstModel **model_link;     /* where the next model goes */
	AstActivation **act_link;  /* where the next activation goes */
	AstStmt **stmt_link;       /* where the current model's next statement goes */
	int nest;                  /* open expression levels (see above) */
	bool resync;               /* a bad activation: next newline resyncs */
} ParseState;

/* parse.c: sets up st to parse src; the file it fills is st->file. */
void parse_state_init(ParseState *st, Arena *a, const Source *src, Diag *d);
/* parse.c: a scanner over st->src with st as its extra data; free it with
 * nn_lex_destroy.  (The unit tests drive it directly.) */
yyscan_t parse_scanner_new(ParseState *st);
}

%code provides {
/* flex's bison-bridge names the types YYSTYPE and YYLTYPE. */
#ifndef YYSTYPE
#define YYSTYPE NN_STYPE
#endif
#ifndef YYLTYPE
#define YYLTYPE NN_LTYPE
#endif
/* The scanner's entry point (nn.l), as flex's reentrant bison-bridge
 * declares it. */
int nn_lex(NN_STYPE *yylval_param, Loc *yylloc_param, yyscan_t yyscanner);
}

%union {
	const char *str;
	NumTok num;
	NameTok name;
	AstValue *val;
	ValList vals;
	AstArg *arg;
	ArgList args;
	AstStep *step;
	StepList steps;
	AstStmt *stmt;
	AstActivation *act;
	ExprVal ex;
}

%token <str> IDENT "identifier"
%token <num> NUMBER "number"
%token MODEL "model" ACTIVATION "activation" INPUT "input" OUTPUT "output"
%token ARROW "->" NEWLINE "newline"

%type <name> model_open
%type <val> value setvalue
%type <vals> dims setvalues
%type <arg> arg
%type <args> args arglist
%type <step> step
%type <steps> chain
%type <stmt> stmt
%type <act> act_head
%type <ex> expr term unary power primary

%code {
#include <stdlib.h>
#include <string.h>

/* Deep enough for any expression within NNC_MAX_DEPTH (a few states per
 * level), small enough that no input can make the stack large. */
#define YYMAXDEPTH 4000

static void yyerror(const Loc *loc, yyscan_t scanner, ParseState *st,
                    const char *msg);
static void begin_model(ParseState *st, NameTok head, Loc loc);
static AstActivation *new_activation(ParseState *st, Loc loc,
                                     const char *name, Loc name_loc);
static void add_stmt(ParseState *st, AstStmt *s);
static AstStmt *new_stmt(ParseState *st, StmtKind kind, Loc loc,
                         const char *name, Loc name_loc);
static AstValue *new_value(ParseState *st, ValueKind kind, Loc loc,
                           const char *text);
static AstValue *num_value(ParseState *st, NumTok t, bool neg, Loc loc);
static AstArg *new_arg(ParseState *st, Loc loc, const char *name,
                       Loc name_loc, AstValue *v);
static AstStep *new_step(ParseState *st, Loc loc, const char *name,
                         Loc name_loc);
static ValList vals_append(ParseState *st, ValList l, AstValue *v);
static void vals_store(ParseState *st, AstStmt *s, ValList l);
static ArgList args_append(ArgList l, AstArg *a);
static ExprVal new_expr(ParseState *st, ExprKind kind, Loc loc,
                        ExprVal lhs, ExprVal rhs);
static bool open_level(ParseState *st, Loc loc);
static bool too_deep(ParseState *st, ExprVal e, Loc loc);

static const Loc noloc;
static const ExprVal noexpr;

/* Shared by the rules that build an operator node: report and recover if
 * the tree gets taller than the limit. */
#define BUILD(res, kind, loc, l, r) \
	do { \
		(res) = new_expr(st, (kind), (loc), (l), (r)); \
		if (too_deep(st, (res), (loc))) \
			YYERROR; \
	} while (0)
#define OPEN(loc) \
	do { \
		if (!open_level(st, (loc))) \
			YYERROR; \
	} while (0)

/* The action of an error rule of a definition, reduced at once with the
 * offending token still ahead.  If it can start the next definition,
 * resume reporting now; otherwise the top level skips it up to the
 * newline, which resumes reporting (yyerrok here would report the same
 * token again). */
#define ACTIVATION_RECOVERED() \
	do { \
		if (yychar == TOK_NEWLINE || yychar == TOK_MODEL || \
		    yychar == TOK_ACTIVATION || yychar == TOK_YYEOF) \
			yyerrok; \
		else \
			st->resync = true; \
	} while (0)
}

%%

/* file = { model | activation } ;  blank lines between them are fine. */
file:
	%empty
	| file toplevel
	;

toplevel:
	model
	| activation
	| NEWLINE
		{
			if (st->resync) {
				yyerrok;
				st->resync = false;
			}
		}
	| error
		/* Text outside any model: the report says so, and bison stays
		 * quiet until three tokens have been shifted, so a run of junk
		 * lines (a model whose 'model' is misspelt) gives one error. */
	;

/* model = "model" IDENT "{" { statement } "}" ; */
model:
	model_open { begin_model(st, $1, @1); } body '}'
		{
			st->model->loc = loc_span(st->model->loc, @4);
			st->model = NULL;
		}
	;

/* A bad header is skipped up to its '{', so the body is still checked. */
model_open:
	"model" IDENT '{'       { $$ = (NameTok){$2, @2}; }
	| "model" IDENT error '{' { yyerrok; $$ = (NameTok){$2, @2}; }
	| "model" error '{'     { yyerrok; $$ = (NameTok){NULL, @1}; }
	;

/* The last statement before '}' needs no terminator.  A statement with a
 * syntax error is dropped, and the model marked incomplete (see also
 * yyreport_syntax_error, for the end of input). */
body:
	stmts
	| stmts stmt            { add_stmt(st, $2); }
	| stmts error           { st->model->incomplete = true; }
	;

stmts:
	%empty
	| stmts stmt end        { add_stmt(st, $2); }
	| stmts end
	| stmts error end       { yyerrok; st->model->incomplete = true; }
	;

end:
	NEWLINE
	| ';'
	;

stmt:
	/* input = "input" IDENT "[" value { "," value } "]" ; */
	"input" IDENT '[' dims ']'
		{ $$ = new_stmt(st, STMT_INPUT, @$, $2, @2); vals_store(st, $$, $4); }
	/* output = "output" IDENT [ "=" chain ] ; */
	| "output" IDENT
		{ $$ = new_stmt(st, STMT_OUTPUT, @$, $2, @2); }
	| "output" IDENT '=' chain
		{ $$ = new_stmt(st, STMT_OUTPUT, @$, $2, @2); $$->chain = $4.head; }
	/* assign = IDENT "=" chain ; */
	| IDENT '=' chain
		{ $$ = new_stmt(st, STMT_ASSIGN, @$, $1, @1); $$->chain = $3.head; }
	| chain
		{ $$ = new_stmt(st, STMT_CHAIN, @$, NULL, noloc); $$->chain = $1.head; }
	/* setting = IDENT setvalue { "," setvalue } ;  IDENT followed by a
	 * value, where a chain's IDENT is followed by '(', '->' or the end. */
	| IDENT setvalues
		{ $$ = new_stmt(st, STMT_SETTING, @$, $1, @1); vals_store(st, $$, $2); }
	;

dims:
	value                   { $$ = vals_append(st, (ValList){0}, $1); }
	| dims ',' value        { $$ = vals_append(st, $1, $3); }
	;

/* chain = step { "->" step } ; */
chain:
	step                    { $$ = (StepList){$1, $1}; }
	| chain "->" step       { $1.tail->next = $3; $$ = (StepList){$1.head, $3}; }
	;

/* step = IDENT [ "(" [ arg { "," arg } ] ")" ] ; */
step:
	IDENT
		{ $$ = new_step(st, @$, $1, @1); }
	| IDENT '(' args ')'
		{
			$$ = new_step(st, @$, $1, @1);
			$$->has_parens = true;
			$$->args = $3.head;
			$$->nargs = $3.n;
		}
	;

args:
	%empty                  { $$ = (ArgList){0}; }
	| arglist
	;

arglist:
	arg                     { $$ = args_append((ArgList){0}, $1); }
	| arglist ',' arg       { $$ = args_append($1, $3); }
	;

/* arg = [ argname "=" ] value ;  argname = IDENT | "activation" ; */
arg:
	value                   { $$ = new_arg(st, @$, NULL, noloc, $1); }
	| IDENT '=' value       { $$ = new_arg(st, @$, $1, @1, $3); }
	| "activation" '=' value
		{
			const char *name = arena_strdup(st->arena, "activation");
			$$ = new_arg(st, @$, name, @1, $3);
		}
	;

/* value = [ "-" ] NUMBER | IDENT ; */
value:
	NUMBER                  { $$ = num_value(st, $1, false, @$); }
	| '-' NUMBER            { $$ = num_value(st, $2, true, @$); }
	| IDENT                 { $$ = new_value(st, VAL_IDENT, @$, $1); }
	;

setvalues:
	setvalue                { $$ = vals_append(st, (ValList){0}, $1); }
	| setvalues ',' setvalue { $$ = vals_append(st, $1, $3); }
	;

/* setvalue = [ "-" ] NUMBER | IDENT [ "(" [ arg { "," arg } ] ")" ] ; */
setvalue:
	value
	| IDENT '(' args ')'
		{
			$$ = new_value(st, VAL_CALL, @$, $1);
			$$->args = $3.head;
			$$->nargs = $3.n;
		}
	;

/* activation = "activation" IDENT "(" IDENT ")" "=" expr ;
 * A definition with a syntax error after its name is kept without a body
 * (or parameter): expr.c marks it not ok, and its uses stay quiet rather
 * than report an unknown activation. */
activation:
	act_head expr
		{ $1->loc = @$; $1->body = $2.e; }
	| act_head error
		{ $1->loc = @$; ACTIVATION_RECOVERED(); }
	| "activation" IDENT error
		{ new_activation(st, @$, $2, @2); ACTIVATION_RECOVERED(); }
	| "activation" error
		{ ACTIVATION_RECOVERED(); }
	;

/* Linked into the file as soon as the header is read, so that it keeps
 * its place in source order whether or not the body parses. */
act_head:
	"activation" IDENT '(' IDENT ')' '='
		{
			st->nest = 0;
			$$ = new_activation(st, @$, $2, @2);
			$$->param = $4;
			$$->param_loc = @4;
		}
	;

/* expr = term { ( "+" | "-" ) term } ; */
expr:
	term
	| expr '+' term         { BUILD($$, EXPR_ADD, @$, $1, $3); }
	| expr '-' term         { BUILD($$, EXPR_SUB, @$, $1, $3); }
	;

/* term = unary { ( "*" | "/" ) unary } ; */
term:
	unary
	| term '*' unary        { BUILD($$, EXPR_MUL, @$, $1, $3); }
	| term '/' unary        { BUILD($$, EXPR_DIV, @$, $1, $3); }
	;

/* unary = "-" unary | power ;  so -x^2 is -(x^2) */
unary:
	power
	| '-' { OPEN(@1); } unary
		{ st->nest--; BUILD($$, EXPR_NEG, @$, $3, noexpr); }
	;

/* power = primary [ "^" unary ] ;  right-associative, 2^-1 allowed */
power:
	primary
	| primary '^' { OPEN(@2); } unary
		{ st->nest--; BUILD($$, EXPR_POW, @$, $1, $4); }
	;

/* primary = NUMBER | IDENT | IDENT "(" expr ")" | "(" expr ")" ; */
primary:
	NUMBER
		{
			$$ = new_expr(st, EXPR_NUM, @$, noexpr, noexpr);
			$$.e->num = $1.num;
		}
	| IDENT
		{
			$$ = new_expr(st, EXPR_VAR, @$, noexpr, noexpr);
			$$.e->name = $1;
		}
	| IDENT '(' { OPEN(@2); } expr ')'
		{
			st->nest--;
			BUILD($$, EXPR_CALL, @$, $4, noexpr);
			$$.e->name = $1;
		}
	| '(' { OPEN(@1); } expr ')'
		{
			st->nest--;
			$$ = $3;
			$$.depth++;
			if (too_deep(st, $$, @$))
				YYERROR;
		}
	;

%%

/* ---------------------------------------------------------- AST builders */

static void begin_model(ParseState *st, NameTok head, Loc loc)
{
	AstModel *m = arena_alloc(st->arena, sizeof *m);
	m->loc = loc;
	m->name = head.name;
	m->name_loc = head.loc;
	/* A model whose header had an error is parsed (for more syntax
	 * errors) but not linked into the file: later phases never see a
	 * model without a name. */
	if (head.name) {
		*st->model_link = m;
		st->model_link = &m->next;
	}
	st->model = m;
	st->stmt_link = &m->stmts;
}

/* A definition with no body yet, linked into the file. */
static AstActivation *new_activation(ParseState *st, Loc loc,
                                     const char *name, Loc name_loc)
{
	AstActivation *act = arena_alloc(st->arena, sizeof *act);
	act->loc = loc;
	act->name = name;
	act->name_loc = name_loc;
	*st->act_link = act;
	st->act_link = &act->next;
	return act;
}

static void add_stmt(ParseState *st, AstStmt *s)
{
	*st->stmt_link = s;
	st->stmt_link = &s->next;
}

static AstStmt *new_stmt(ParseState *st, StmtKind kind, Loc loc,
                         const char *name, Loc name_loc)
{
	AstStmt *s = arena_alloc(st->arena, sizeof *s);
	s->kind = kind;
	s->loc = loc;
	s->name = name;
	s->name_loc = name_loc;
	return s;
}

static AstValue *new_value(ParseState *st, ValueKind kind, Loc loc,
                           const char *text)
{
	AstValue *v = arena_alloc(st->arena, sizeof *v);
	v->kind = kind;
	v->loc = loc;
	v->text = text;
	return v;
}

/* A number value; with neg, the '-' in front of it is part of it (its loc
 * covers the minus, its text is "-0.5"). */
static AstValue *num_value(ParseState *st, NumTok t, bool neg, Loc loc)
{
	AstValue *v = new_value(st, VAL_NUM, loc,
	                        neg ? arena_printf(st->arena, "-%s", t.text)
	                            : t.text);
	v->num = neg ? -t.num : t.num;
	v->is_int = t.is_int;
	v->bad = t.bad;
	return v;
}

static AstArg *new_arg(ParseState *st, Loc loc, const char *name,
                       Loc name_loc, AstValue *v)
{
	AstArg *a = arena_alloc(st->arena, sizeof *a);
	a->loc = loc;
	a->name = name;
	a->name_loc = name_loc;
	a->value = v;
	return a;
}

static AstStep *new_step(ParseState *st, Loc loc, const char *name,
                         Loc name_loc)
{
	AstStep *s = arena_alloc(st->arena, sizeof *s);
	s->loc = loc;
	s->name = name;
	s->name_loc = name_loc;
	return s;
}

static ValList vals_append(ParseState *st, ValList l, AstValue *v)
{
	ValNode *n = arena_alloc(st->arena, sizeof *n);
	n->value = v;
	if (l.tail)
		l.tail->next = n;
	else
		l.head = n;
	l.tail = n;
	l.n++;
	return l;
}

/* Turns the list into the statement's NULL-terminated values array. */
static void vals_store(ParseState *st, AstStmt *s, ValList l)
{
	s->values = arena_array(st->arena, (size_t)l.n + 1, sizeof *s->values);
	s->nvalues = l.n;
	int i = 0;
	for (ValNode *n = l.head; n; n = n->next)
		s->values[i++] = n->value;
}

static ArgList args_append(ArgList l, AstArg *a)
{
	if (l.tail)
		l.tail->next = a;
	else
		l.head = a;
	l.tail = a;
	l.n++;
	return l;
}

static ExprVal new_expr(ParseState *st, ExprKind kind, Loc loc, ExprVal lhs,
                        ExprVal rhs)
{
	Expr *e = arena_alloc(st->arena, sizeof *e);
	e->kind = kind;
	e->loc = loc;
	e->lhs = lhs.e;
	e->rhs = rhs.e;
	e->fn = FN_NONE;
	int d = lhs.depth > rhs.depth ? lhs.depth : rhs.depth;
	/* A run of + - * / is reduced as it goes (left recursion): only the
	 * other operators nest (see the top of this file). */
	bool flat = kind == EXPR_ADD || kind == EXPR_SUB || kind == EXPR_MUL ||
	            kind == EXPR_DIV;
	return (ExprVal){e, flat ? d : d + 1};
}

static void report_too_deep(ParseState *st, Loc loc)
{
	diag_error(st->diag, loc, "expression is nested too deeply (limit %d)",
	           NNC_MAX_DEPTH);
}

/* Called as a '(', unary '-' or '^' is shifted: the expression it opens
 * will be at least nest + 1 high, so going past the limit here is the
 * same error as too_deep, found before the stack grows any further. */
static bool open_level(ParseState *st, Loc loc)
{
	if (++st->nest <= NNC_MAX_DEPTH)
		return true;
	report_too_deep(st, loc);
	return false;
}

static bool too_deep(ParseState *st, ExprVal e, Loc loc)
{
	if (e.depth <= NNC_MAX_DEPTH)
		return false;
	report_too_deep(st, loc);
	return true;
}

/* ------------------------------------------------------------ messages */

/* The symbol kind of a character token such as '('. */
#define SYM(c) ((yysymbol_kind_t)yytranslate[(unsigned char)(c)])

/* How a token is named in messages: the expected ones by their kind
 * ("identifier"), the offending one with its text ("identifier 'foo'"). */
static const char *symbol_name(yysymbol_kind_t k)
{
	switch (k) {
	case YYSYMBOL_YYEOF: return "end of input";
	case YYSYMBOL_NEWLINE: return "newline";
	case YYSYMBOL_IDENT: return "identifier";
	case YYSYMBOL_NUMBER: return "number";
	case YYSYMBOL_MODEL: return "'model'";
	case YYSYMBOL_ACTIVATION: return "'activation'";
	case YYSYMBOL_INPUT: return "'input'";
	case YYSYMBOL_OUTPUT: return "'output'";
	case YYSYMBOL_ARROW: return "'->'";
	default: return yysymbol_name(k);  /* "'('" for a character token */
	}
}

/* Long identifiers and numbers are shown cut, to keep the message one line. */
static const char *lookahead_name(ParseState *st, yysymbol_kind_t k)
{
	if (k == SYM('}') && st->virtual_close)
		return st->virtual_close == TOK_MODEL ? "'model'" : "'activation'";
	if ((k != YYSYMBOL_IDENT && k != YYSYMBOL_NUMBER) || !st->last_text)
		return symbol_name(k);
	const char *t = st->last_text;
	size_t n = strlen(t);
	if (n > 32)
		return arena_printf(st->arena, "%s '%.32s...'", symbol_name(k), t);
	return arena_printf(st->arena, "%s '%s'", symbol_name(k), t);
}


static char closer_of(char open)
{
	return open == '(' ? ')' : open == '[' ? ']' : open == '{' ? '}' : 0;
}

static bool is_keyword(yysymbol_kind_t k)
{
	return k == YYSYMBOL_MODEL || k == YYSYMBOL_ACTIVATION ||
	       k == YYSYMBOL_INPUT || k == YYSYMBOL_OUTPUT;
}

/* parse.error custom: one line naming what was expected (from LAC, so the
 * list is exact) and what was found, plus a note at the unclosed bracket
 * when the error is that it was not closed. */
static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner,
                                 ParseState *st)
{
	(void)scanner;
	yysymbol_kind_t la = yypcontext_token(ctx);
	/* At the end of input the parse gives up, and a model's statement that
	 * was not finished is dropped without an error rule to say so. */
	if (la == YYSYMBOL_YYEOF && st->model && st->prev_kind != TOK_NEWLINE &&
	    st->prev_kind != ';' && st->prev_kind != '{')
		st->model->incomplete = true;
	if (st->stopped)
		return 0;
	Loc loc = *yypcontext_location(ctx);
	yysymbol_kind_t kinds[YYNTOKENS];
	int n = yypcontext_expected_tokens(ctx, kinds, YYNTOKENS);
	bool want[YYNTOKENS] = {0};
	for (int i = 0; i < n; i++)
		want[kinds[i]] = true;

	/* The innermost bracket open before the offending token, and whether
	 * closing it would have been right here. */
	char closer = closer_of(st->before.c);
	bool unclosed = closer && want[SYM(closer)];
	bool new_line = st->prev.first_line && loc.first_line > st->prev.last_line;
	bool eof = la == YYSYMBOL_YYEOF;
	bool note;
	if (closer == '}')         /* (a '}' missing before the next model is
	                              the scanner's to report) */
		note = unclosed && eof;
	else
		note = unclosed && (eof || la == YYSYMBOL_NEWLINE ||
		                    la == SYM(')') || la == SYM(']') ||
		                    la == SYM('}') || new_line);

	/* A newline swallowed inside an unclosed '(' or '[' most likely
	 * ended the statement: let the next newline end it again, so that
	 * recovery resumes on the following line. */
	if (new_line && st->nparen > 0) {
		st->nopen -= st->nparen;
		st->nparen = 0;
	}

	if (want[YYSYMBOL_MODEL] && want[YYSYMBOL_ACTIVATION] &&
	    !want[SYM('+')]) {
		diag_error(st->diag, loc,
		           "expected 'model' or 'activation' at top level");
		return 0;
	}
	if (la == YYSYMBOL_ARROW && st->prev_kind == TOK_NEWLINE &&
	    want[YYSYMBOL_INPUT]) {
		diag_error(st->diag, loc, "a newline before '->' ends the statement; "
		           "put the '->' at the end of the previous line");
		return 0;
	}
	if (n == 1 && want[YYSYMBOL_IDENT] && is_keyword(la)) {
		diag_error(st->diag, loc,
		           "%s is a reserved word and cannot be used as a name",
		           symbol_name(la));
		return 0;
	}

	/* Collapse groups of tokens into the construct they begin or end. */
	const char *names[YYNTOKENS + 8];
	int nn = 0;
	if (want[SYM('+')] && want[SYM('*')]) {
		names[nn++] = "operator";
		want[SYM('+')] = want[SYM('-')] = want[SYM('*')] = false;
		want[SYM('/')] = want[SYM('^')] = want[SYM('(')] = false;
	}
	if (want[YYSYMBOL_IDENT] && want[YYSYMBOL_INPUT] && want[YYSYMBOL_OUTPUT]) {
		names[nn++] = "statement";
		want[YYSYMBOL_IDENT] = want[YYSYMBOL_INPUT] = false;
		want[YYSYMBOL_OUTPUT] = want[YYSYMBOL_NEWLINE] = false;
		want[SYM(';')] = false;
	}
	if (want[SYM('(')] && want[YYSYMBOL_IDENT] && want[YYSYMBOL_NUMBER] &&
	    want[SYM('-')] && !want[YYSYMBOL_ARROW]) {
		names[nn++] = "expression";
		want[SYM('(')] = want[YYSYMBOL_IDENT] = false;
		want[YYSYMBOL_NUMBER] = want[SYM('-')] = false;
	}
	if (want[YYSYMBOL_IDENT] && want[YYSYMBOL_NUMBER] && want[SYM('-')]) {
		names[nn++] = want[YYSYMBOL_ACTIVATION] ? "argument" : "value";
		want[YYSYMBOL_IDENT] = want[YYSYMBOL_NUMBER] = false;
		want[SYM('-')] = want[YYSYMBOL_ACTIVATION] = false;
	}
	/* Then single tokens, then what ends a statement or a line. */
	const char *ends = NULL;
	if (want[YYSYMBOL_NEWLINE] && want[SYM(';')]) {
		ends = "end of statement";
		want[YYSYMBOL_NEWLINE] = want[SYM(';')] = want[SYM('}')] = false;
	}
	if (want[YYSYMBOL_NEWLINE] && want[YYSYMBOL_MODEL]) {
		ends = "newline";
		want[YYSYMBOL_NEWLINE] = want[YYSYMBOL_MODEL] = false;
		want[YYSYMBOL_ACTIVATION] = want[YYSYMBOL_YYEOF] = false;
	}
	for (int i = 0; i < n; i++)
		if (want[kinds[i]])
			names[nn++] = symbol_name(kinds[i]);
	if (ends)
		names[nn++] = ends;

	const char *found = lookahead_name(st, la);
	const char *where = eof ? "at" : "before";
	if (eof && unclosed) {
		diag_error(st->diag, loc, "expected '%c' at end of input", closer);
	} else if (nn == 0 || nn > 4) {
		diag_error(st->diag, loc, "unexpected %s", found);
	} else {
		char list[256] = "";
		for (int i = 0; i < nn; i++) {
			const char *sep = i == 0 ? "" : i == nn - 1 ? " or " : ", ";
			strcat(list, sep);
			strcat(list, names[i]);
		}
		if (eof)
			diag_error(st->diag, loc, "expected %s at end of input", list);
		else
			diag_error(st->diag, loc, "expected %s %s %s", list, where, found);
	}
	if (note)
		diag_note(st->diag, st->before.loc, "to match this '%c'",
		          st->before.c);
	return 0;
}

/* Only for bison's own failures (the stack limit, which no input within
 * the nesting limit reaches). */
static void yyerror(const Loc *loc, yyscan_t scanner, ParseState *st,
                    const char *msg)
{
	(void)scanner;
	diag_error(st->diag, *loc, "%s", msg);
}
